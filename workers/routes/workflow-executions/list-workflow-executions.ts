import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { workflowExecutions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { executionSchema, toExecutionResponse, workflowStatus } from "./schemas";

const page = pageOf(executionSchema, "WorkflowExecutionPage");
export type ListWorkflowExecutionsResponse = z.infer<typeof page>;

const query = pageQuery.extend({
  workflowId: z.string().uuid().optional().openapi({ description: "Only this workflow's executions." }),
  status: workflowStatus.optional(),
});

const route = createRoute({
  operationId: "listWorkflowExecutions",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflow-executions",
  summary: "List executions, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of executions.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListWorkflowExecutions(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:read");
    const { limit, cursor, workflowId, status } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(workflowExecutions.tenantId, db.tenantId)];
    if (workflowId) filters.push(eq(workflowExecutions.workflowId, workflowId));
    if (status) filters.push(eq(workflowExecutions.status, status));
    if (after) filters.push(lt(workflowExecutions.id, after));
    const rows = await db
      .select()
      .from(workflowExecutions)
      .where(and(...filters))
      .orderBy(desc(workflowExecutions.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toExecutionResponse), nextCursor }, 200);
  });
}
