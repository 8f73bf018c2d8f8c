import type { App } from "../../app";

const SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Meridian API</title>
<link rel="stylesheet" href="${SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="${SWAGGER_UI}/swagger-ui-bundle.js" crossorigin></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

const init = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", persistAuthorization: true });`;

/**
 * Interactive docs at /docs: Swagger UI from a pinned CDN build, pointed at /openapi.json.
 * The page's CSP allows that CDN and our own origin only; the init script is a separate
 * same-origin file so no inline script needs allowing.
 */
export function registerDocsPage(app: App) {
  app.get("/docs", (c) => {
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'self' ${SWAGGER_UI}/; style-src ${SWAGGER_UI}/; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'`,
    );
    return c.html(page);
  });
  app.get("/docs/init.js", (c) => c.body(init, 200, { "content-type": "text/javascript; charset=utf-8" }));
}
