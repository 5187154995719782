// Starts Swagger UI on /api/docs (see tenderhall.web.apidocs): a static file, so that the page
// needs no inline script under the Content-Security-Policy.
(function () {
  "use strict";
  const root = document.getElementById("swagger-container");
  if (!root || !window.SwaggerUIBundle) return;
  const cookieName = root.dataset.csrfCookie;
  const headerName = root.dataset.csrfHeader;
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the public validator is another origin (and offline in a centre)
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
    requestInterceptor: (request) => {
      if (cookieName && headerName) {
        const row = document.cookie.split("; ").find((r) => r.startsWith(cookieName + "="));
        if (row) request.headers[headerName] = row.slice(cookieName.length + 1);
      }
      return request;
    },
  });
})();
