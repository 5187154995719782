// Small behaviours of the server-rendered pages, kept in a file: the Content-Security-Policy
// allows no inline script or event handler attribute.
(function () {
  "use strict";
  // A filter that applies as soon as it changes (the home page's state filter).
  for (const field of document.querySelectorAll("[data-autosubmit]")) {
    field.addEventListener("change", () => field.form && field.form.submit());
  }
})();
