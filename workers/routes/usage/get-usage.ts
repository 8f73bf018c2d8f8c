import { createRoute } from "@hono/zod-openapi";
import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { type UsageMeter, usageEvents } from "../../../db/schema/usage";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { type UsageGrouping, type UsageReport, usageQuery, usageRange, usageReportSchema } from "./schemas";

/** The SQL each grouping selects and groups by, named as the response field. */
const groupColumns: Record<Exclude<UsageGrouping, "meter">, { field: string; expr: SQL }> = {
  day: { field: "day", expr: sql`to_char(${usageEvents.occurredAt} at time zone 'UTC', 'YYYY-MM-DD')` },
  hour: {
    field: "hour",
    expr: sql`to_char(date_trunc('hour', ${usageEvents.occurredAt} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
  },
  model: { field: "model", expr: sql`${usageEvents.model}` },
  agent: { field: "agentId", expr: sql`${usageEvents.agentId}` },
  user: { field: "userId", expr: sql`${usageEvents.userId}` },
  key: { field: "apiKeyId", expr: sql`${usageEvents.apiKeyId}` },
};

const route = createRoute({
  operationId: "getUsage",
  tags: ["usage"],
  method: "get",
  path: "/v1/usage",
  summary: "The tenant's metered usage over a time range, grouped",
  security: [{ bearer: [] }],
  request: { query: usageQuery },
  responses: {
    200: {
      description: "Usage groups and totals per meter.",
      content: { "application/json": { schema: usageReportSchema } },
    },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerGetUsage(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "usage:read");
    const q = c.req.valid("query");
    const db = c.get("db");
    const { from, to } = usageRange(q);
    const groupings = [...new Set((q.groupBy ?? "").split(",").filter(Boolean))] as UsageGrouping[];
    const selected = groupings.flatMap((g) => (g === "meter" ? [] : [groupColumns[g]]));

    // Grouped by position: the meter first, then the groupings in the order asked.
    const columns = [sql`${usageEvents.meter}`, ...selected.map((s) => s.expr)];
    const rows = await db.execute<Record<string, string | null>>(sql`
      select ${sql.join(
        columns.map((expr, i) => sql`${expr} as ${sql.identifier(`g${i}`)}`),
        sql`, `,
      )},
        sum(${usageEvents.quantity})::text as quantity,
        sum(${usageEvents.costMicroUsd})::text as cost
      from ${usageEvents}
      where ${and(
        eq(usageEvents.tenantId, db.tenantId),
        gte(usageEvents.occurredAt, from),
        lt(usageEvents.occurredAt, to),
      )}
      group by ${sql.join(
        columns.map((_, i) => sql.raw(String(i + 1))),
        sql`, `,
      )}
      order by ${sql.join(
        columns.map((_, i) => sql.raw(String(i + 1))),
        sql`, `,
      )}`);

    const report: UsageReport = {
      from: from.toISOString(),
      to: to.toISOString(),
      groups: [],
      totals: { byMeter: {}, costMicroUsd: 0 },
    };
    for (const row of rows.rows) {
      const meter = row.g0 as UsageMeter;
      const quantity = Number(row.quantity);
      const costMicroUsd = Number(row.cost);
      const group: Record<string, unknown> = {};
      selected.forEach((s, i) => {
        group[s.field] = row[`g${i + 1}`] ?? null;
      });
      report.groups.push({ ...group, meter, quantity, costMicroUsd });
      const total = report.totals.byMeter[meter] ?? { quantity: 0, costMicroUsd: 0 };
      total.quantity += quantity;
      total.costMicroUsd += costMicroUsd;
      report.totals.byMeter[meter] = total;
      report.totals.costMicroUsd += costMicroUsd;
    }
    return c.json(report, 200);
  });
}
