"""Browser pages, templates, static assets and the i18n catalogues."""
