// Small behaviours of the server-rendered pages, kept in a file: the Content-Security-Policy
// allows no inline script or event handler attribute.
(function () {
  "use strict";
  // A filter that applies as soon as it changes (the home page's state filter).
  for (const field of document.querySelectorAll("[data-autosubmit]")) {
    field.addEventListener("change", () => {
      if (!field.form) return;
      // Empty filters stay out of the address: /?state=closed, not /?q=&centre=&state=closed.
      for (const other of field.form.elements) {
        if (other.name && other.value === "") other.disabled = true;
      }
      field.form.submit();
    });
  }
})();
