import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, ilike, isNull, lt, type SQL } from "drizzle-orm";
import { workflows } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { toWorkflowResponse, workflowSchema } from "./schemas";

const query = pageQuery.extend({
  name: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "Case-insensitive prefix of the name.", example: "research" }),
});

const page = pageOf(workflowSchema, "WorkflowPage");
export type ListWorkflowsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listWorkflows",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflows",
  summary: "List workflows, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of workflows.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

export function registerListWorkflows(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:read");
    const { limit, cursor, name } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use (tenant_id, id).
    const filters: SQL[] = [eq(workflows.tenantId, db.tenantId), isNull(workflows.deletedAt)];
    if (after) filters.push(lt(workflows.id, after));
    if (name) filters.push(ilike(workflows.name, `${escapeLike(name)}%`));
    const rows = await db
      .select()
      .from(workflows)
      .where(and(...filters))
      .orderBy(desc(workflows.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map((row) => toWorkflowResponse(row)), nextCursor }, 200);
  });
}
