import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";

const route = createRoute({
  operationId: "getHealth",
  tags: ["health"],
  method: "get",
  path: "/health",
  summary: "Liveness: the Worker answers",
  responses: {
    200: {
      description: "The Worker is up.",
      content: {
        "application/json": {
          schema: z.object({ status: z.literal("ok").openapi({ example: "ok" }) }).openapi("Health"),
        },
      },
    },
  },
});

export type GetHealthResponse = { status: "ok" };

export function registerGetHealth(app: App) {
  app.openapi(route, (c) => c.json({ status: "ok" as const }, 200));
}
