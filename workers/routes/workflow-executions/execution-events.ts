import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { executionObject, loadExecution } from "./load";

const route = createRoute({
  operationId: "followWorkflowExecution",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflow-executions/{id}/events",
  summary: "Follow an execution's step events (server-sent events)",
  description:
    "Every event so far, then each new one until `done`. Each has an `id`; reconnect with `Last-Event-ID` " +
    "to get only what was missed. docs/workflows.md lists the events.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "workflow execution") }),
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d{1,12}$/)
        .optional()
        .openapi({ param: { name: "last-event-id", in: "header" } }),
    }),
  },
  responses: {
    200: { description: "The event stream.", content: { "text/event-stream": { schema: z.string() } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerFollowWorkflowExecution(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:read");
    const { id } = c.req.valid("param");
    const row = await loadExecution(c.get("db"), id);
    const lastEventId = c.req.valid("header")["last-event-id"] ?? "0";
    return executionObject(c.env, row).fetch("https://workflow-execution/events", {
      headers: { "last-event-id": lastEventId },
    });
  });
}
