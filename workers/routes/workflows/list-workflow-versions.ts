import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { workflowVersions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadWorkflow } from "./load";
import { toWorkflowVersionResponse, workflowVersionSchema } from "./schemas";

const page = pageOf(workflowVersionSchema, "WorkflowVersionPage");
export type ListWorkflowVersionsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listWorkflowVersions",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflows/{id}/versions",
  summary: "List a workflow's versions, newest first",
  description: "Read one version's definition with `GET /v1/workflows/{id}?version=N`.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "workflow") }), query: pageQuery },
  responses: {
    200: { description: "A page of versions.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerListWorkflowVersions(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:read");
    const db = c.get("db");
    const workflow = await loadWorkflow(db, c.req.valid("param").id);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [
      eq(workflowVersions.tenantId, db.tenantId),
      eq(workflowVersions.workflowId, workflow.id),
    ];
    // By version, not id: the cursor names the last version row shown.
    if (after)
      filters.push(
        sql`${workflowVersions.version} < (select ${workflowVersions.version} from ${workflowVersions} where ${workflowVersions.id} = ${after})`,
      );
    const rows = await db
      .select()
      .from(workflowVersions)
      .where(and(...filters))
      .orderBy(desc(workflowVersions.version))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toWorkflowVersionResponse), nextCursor }, 200);
  });
}
