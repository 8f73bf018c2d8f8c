import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { agentRuns } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentRunSchema, toAgentRunResponse } from "./schemas";

const route = createRoute({
  operationId: "getAgentRun",
  tags: ["agent-runs"],
  method: "get",
  path: "/v1/agent-runs/{id}",
  summary: "Get an agent run with its status and totals",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent run") }) },
  responses: {
    200: { description: "The run.", content: { "application/json": { schema: agentRunSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetAgentRun(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const { id } = c.req.valid("param");
    // Another tenant's run is hidden by RLS: 404 like an id that never existed.
    const [run] = await db
      .select()
      .from(agentRuns)
      .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, id)));
    if (!run) throw new ApiError("NOT_FOUND", { detail: `Agent run ${id} not found.` });
    return c.json(toAgentRunResponse(run), 200);
  });
}
