import type { App } from "../../app";

export const OPENAPI_INFO = {
  title: "Meridian API",
  version: "0.1.0",
  description:
    "Multi-tenant AI agent platform. Errors are RFC 9457 problem documents (application/problem+json) with a stable `code`.",
};

/** Serves the OpenAPI 3.1 document the routes' zod schemas define. */
export function registerOpenApi(app: App) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An access token from /v1/auth/login, an API key (mk_...), or the platform admin token.",
  });
  app.doc31("/openapi.json", { openapi: "3.1.0", info: OPENAPI_INFO, servers: [{ url: "/" }] });
}

/** The OpenAPI document as an object, for `npm run openapi` and tests. */
export function openApiDocument(app: App) {
  return app.getOpenAPI31Document({ openapi: "3.1.0", info: OPENAPI_INFO, servers: [{ url: "/" }] });
}
