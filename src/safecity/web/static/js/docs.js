// Starts the vendored Swagger UI on /docs (a file, not an inline script: the console's CSP allows
// only scripts from 'self'). No validator badge: it would call an outside server.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
