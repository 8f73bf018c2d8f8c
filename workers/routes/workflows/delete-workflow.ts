import { createRoute, z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import { workflows } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadWorkflow } from "./load";

const route = createRoute({
  operationId: "deleteWorkflow",
  tags: ["workflows"],
  method: "delete",
  path: "/v1/workflows/{id}",
  summary: "Delete a workflow",
  description:
    "Soft delete: the workflow is 404 from then on and cannot be executed. Its versions are kept, " +
    "so executions already started keep the definition they run.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "workflow") }) },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteWorkflow(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:write");
    const db = c.get("db");
    const workflow = await loadWorkflow(db, c.req.valid("param").id, { forUpdate: true });
    await db.update(workflows).set({ deletedAt: sql`now()` }).where(eq(workflows.id, workflow.id));
    await audit(c, {
      action: "workflow.delete",
      resourceType: "workflow",
      resourceId: workflow.id,
      changes: { name: workflow.name },
    });
    return c.body(null, 204);
  });
}
