import { createRoute } from "@hono/zod-openapi";
import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { type UsageMeter, usageEvents, usageRollups } from "../../../db/schema/usage";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { type UsageGrouping, type UsageReport, usageQuery, usageRange, usageReportSchema } from "./schemas";

/** Where a report reads from: the hourly rollups, or the raw events for ranges within an hour. */
const sources = {
  rollups: {
    table: usageRollups,
    at: usageRollups.hour,
    tenantId: usageRollups.tenantId,
    meter: usageRollups.meter,
    quantity: usageRollups.quantity,
    cost: usageRollups.costMicroUsd,
    model: usageRollups.model,
    agentId: usageRollups.agentId,
    userId: usageRollups.userId,
    apiKeyId: usageRollups.apiKeyId,
  },
  events: {
    table: usageEvents,
    at: usageEvents.occurredAt,
    tenantId: usageEvents.tenantId,
    meter: usageEvents.meter,
    quantity: usageEvents.quantity,
    cost: usageEvents.costMicroUsd,
    model: usageEvents.model,
    agentId: usageEvents.agentId,
    userId: usageEvents.userId,
    apiKeyId: usageEvents.apiKeyId,
  },
};
type Source = (typeof sources)[keyof typeof sources];

/** The SQL each grouping selects and groups by, named as the response field. */
function groupColumns(src: Source): Record<Exclude<UsageGrouping, "meter">, { field: string; expr: SQL }> {
  return {
    day: { field: "day", expr: sql`to_char(${src.at} at time zone 'UTC', 'YYYY-MM-DD')` },
    hour: {
      field: "hour",
      expr: sql`to_char(date_trunc('hour', ${src.at} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
    },
    model: { field: "model", expr: sql`${src.model}` },
    agent: { field: "agentId", expr: sql`${src.agentId}` },
    user: { field: "userId", expr: sql`${src.userId}` },
    key: { field: "apiKeyId", expr: sql`${src.apiKeyId}` },
  };
}

const onTheHour = (at: Date) => at.getTime() % 3_600_000 === 0;

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
    // Whole hours (the default month is) read the rollups; a range cutting into an hour, the events.
    const src: Source = onTheHour(from) && onTheHour(to) ? sources.rollups : sources.events;
    const groupings = [...new Set((q.groupBy ?? "").split(",").filter(Boolean))] as UsageGrouping[];
    const byGrouping = groupColumns(src);
    const selected = groupings.flatMap((g) => (g === "meter" ? [] : [byGrouping[g]]));

    // Grouped by position: the meter first, then the groupings in the order asked.
    const columns = [sql`${src.meter}`, ...selected.map((s) => s.expr)];
    const rows = await db.execute<Record<string, string | null>>(sql`
      select ${sql.join(
        columns.map((expr, i) => sql`${expr} as ${sql.identifier(`g${i}`)}`),
        sql`, `,
      )},
        sum(${src.quantity})::text as quantity,
        sum(${src.cost})::text as cost
      from ${src.table}
      where ${and(eq(src.tenantId, db.tenantId), gte(src.at, from), lt(src.at, to))}
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
