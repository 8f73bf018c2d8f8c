import { createRoute, z } from "@hono/zod-openapi";
import { followRun } from "../../agents/run/object";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadRun } from "./load";

const route = createRoute({
  operationId: "streamAgentRunEvents",
  tags: ["agent-runs"],
  method: "get",
  path: "/v1/agent-runs/{id}/events",
  summary: "Follow a run's events (server-sent events), resuming after Last-Event-ID",
  description:
    "Replays the run's events after `Last-Event-ID` (all of them without it), then streams new ones " +
    "until `done`. Works while the run is in progress and for an hour after it ends; 410 after that " +
    "(read the run and its conversation instead). Reattaching to a streamed run within the grace " +
    "period keeps it from being cancelled as `client_disconnected`.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "agent run") }),
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d{1,12}$/)
        .optional()
        .openapi({
          description: "The `id` of the last event the client received.",
          example: "12",
        }),
    }),
  },
  responses: {
    200: {
      description: "The run's events as `text/event-stream`.",
      content: {
        "text/event-stream": { schema: z.string().openapi({ description: "See docs/agents.md#events." }) },
      },
    },
    ...problemResponses(400, 401, 403, 404, 410, 429, 500),
  },
});

export function registerRunEvents(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const run = await loadRun(c.get("db"), c.req.valid("param").id);
    const events = await followRun(c.env, c.executionCtx, run, {
      lastEventId: c.req.valid("header")["last-event-id"] ?? "0",
    });
    return events as never;
  });
}
