import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, getTableColumns, gte, lt, type SQL, sql } from "drizzle-orm";
import { connect } from "../../../db/client";
import { usageEvents } from "../../../db/schema/usage";
import { withTenant } from "../../../db/tenant";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { usageExportQuery, usageRange } from "./schemas";

/** Rows read per transaction: an export of any size holds no transaction for long. */
export const EXPORT_PAGE_ROWS = 1000;

/** The exported columns, in order (CSV header and NDJSON keys). */
const COLUMNS = [
  "id",
  "occurredAt",
  "meter",
  "quantity",
  "unit",
  "costMicroUsd",
  "model",
  "agentId",
  "resourceType",
  "resourceId",
  "userId",
  "apiKeyId",
  "eventKey",
] as const;
type ExportRow = Record<(typeof COLUMNS)[number], string | number | null>;

const route = createRoute({
  operationId: "exportUsage",
  tags: ["usage"],
  method: "get",
  path: "/v1/usage/export",
  summary: "Every usage event of a period, oldest first, as CSV or NDJSON",
  description:
    "The raw events behind `GET /v1/usage`, for audits and billing systems. Streamed: the body is read page by page while it is sent.",
  security: [{ bearer: [] }],
  request: { query: usageExportQuery },
  responses: {
    200: {
      description: "The events.",
      content: {
        "text/csv": { schema: z.string() },
        "application/x-ndjson": { schema: z.string() },
      },
    },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function toExportRow(row: typeof usageEvents.$inferSelect): ExportRow {
  return {
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    meter: row.meter,
    quantity: row.quantity,
    unit: row.unit,
    costMicroUsd: row.costMicroUsd,
    model: row.model,
    agentId: row.agentId,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    userId: row.userId,
    apiKeyId: row.apiKeyId,
    eventKey: row.eventKey,
  };
}

export function registerExportUsage(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "usage:read");
    const q = c.req.valid("query");
    const { tenantId } = c.get("db");
    const config = c.get("config");
    const { from, to } = usageRange(q);
    const line =
      q.format === "csv"
        ? (row: ExportRow) => `${COLUMNS.map((col) => csvField(row[col])).join(",")}\r\n`
        : (row: ExportRow) => `${JSON.stringify(row)}\n`;

    const encoder = new TextEncoder();
    let client: Awaited<ReturnType<typeof connect>> | undefined;
    /** The last row sent: the next page starts after it (keyset on occurred_at, id). */
    let after: { at: string; id: string } | undefined;
    const close = async () => {
      await client?.end().catch(() => undefined);
      client = undefined;
    };
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        if (q.format === "csv") controller.enqueue(encoder.encode(`${COLUMNS.join(",")}\r\n`));
      },
      async pull(controller) {
        try {
          client ??= await connect(config);
          const range: SQL[] = [
            eq(usageEvents.tenantId, tenantId),
            gte(usageEvents.occurredAt, from),
            lt(usageEvents.occurredAt, to),
          ];
          // The cursor's instant as PostgreSQL wrote it (microseconds; a Date keeps milliseconds).
          if (after)
            range.push(
              sql`(${usageEvents.occurredAt}, ${usageEvents.id}) > (${after.at}::timestamptz, ${after.id})`,
            );
          const page = await withTenant(
            client,
            tenantId,
            (db) =>
              db
                .select({
                  ...getTableColumns(usageEvents),
                  cursorAt: sql<string>`${usageEvents.occurredAt}::text`,
                })
                .from(usageEvents)
                .where(and(...range))
                .orderBy(asc(usageEvents.occurredAt), asc(usageEvents.id))
                .limit(EXPORT_PAGE_ROWS),
            { readOnly: true },
          );
          if (page.length > 0) {
            controller.enqueue(encoder.encode(page.map((row) => line(toExportRow(row))).join("")));
            const last = page.at(-1);
            if (last) after = { at: last.cursorAt, id: last.id };
          }
          if (page.length < EXPORT_PAGE_ROWS) {
            await close();
            controller.close();
          }
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      async cancel() {
        await close();
      },
    });
    const extension = q.format === "csv" ? "csv" : "ndjson";
    const name = `usage-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.${extension}`;
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": q.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
        "content-disposition": `attachment; filename="${name}"`,
        "cache-control": "no-store",
      },
    }) as never;
  });
}
