import { z } from "@hono/zod-openapi";
import { USAGE_METERS } from "../../../db/schema/usage";

export const USAGE_GROUPINGS = ["day", "hour", "model", "agent", "user", "key", "meter"] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

const grouping = `(${USAGE_GROUPINGS.join("|")})`;
const instant = z.string().datetime({ offset: true });

/** `from` and `to` of a usage query: an instant range, by default the current month (UTC). */
const usageRangeFields = {
  from: instant.optional().openapi({
    description: "Events at or after this instant (ISO 8601). Default: the start of the current month (UTC).",
    example: "2026-11-01T00:00:00Z",
  }),
  to: instant.optional().openapi({
    description: "Events before this instant (ISO 8601). Default: the start of the next month (UTC).",
    example: "2026-12-01T00:00:00Z",
  }),
};

function ordered(q: { from?: string | undefined; to?: string | undefined }): boolean {
  return !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to);
}
const afterFrom = { message: "must be after from", path: ["to"] };

/** The range a query names, the current calendar month (UTC) filling what it leaves out. */
export function usageRange(q: { from?: string | undefined; to?: string | undefined }, now = new Date()) {
  return {
    from: q.from ? new Date(q.from) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
    to: q.to ? new Date(q.to) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
  };
}

export const usageQuery = z
  .object({
    ...usageRangeFields,
    groupBy: z
      .string()
      .regex(
        new RegExp(`^${grouping}(,${grouping})*$`),
        `a comma-separated list of ${USAGE_GROUPINGS.join(", ")}`,
      )
      .optional()
      .openapi({
        description:
          "Comma-separated groupings (day, hour, model, agent, user, key, meter). Groups are always by meter too: quantities of different units never add up.",
        example: "day,model",
      }),
  })
  .refine(ordered, afterFrom);

export const usageExportQuery = z
  .object({
    ...usageRangeFields,
    format: z.enum(["csv", "ndjson"]).default("csv").openapi({
      description: "`csv` (RFC 4180, with a header row) or `ndjson` (one JSON object per line).",
    }),
  })
  .refine(ordered, afterFrom);

export const usageGroupSchema = z
  .object({
    day: z.string().optional().openapi({ description: "UTC day (YYYY-MM-DD).", example: "2026-11-26" }),
    hour: z.string().datetime().optional().openapi({ description: "Start of the UTC hour." }),
    model: z.string().nullable().optional(),
    agentId: z.string().uuid().nullable().optional(),
    userId: z.string().uuid().nullable().optional(),
    apiKeyId: z.string().uuid().nullable().optional(),
    meter: z.enum(USAGE_METERS),
    quantity: z
      .number()
      .int()
      .openapi({ description: "Sum of the group's quantities, in the meter's unit." }),
    costMicroUsd: z.number().int().openapi({ description: "Sum of the group's cost, in micro-USD." }),
  })
  .openapi("UsageGroup");

export const usageReportSchema = z
  .object({
    from: z.string().datetime(),
    to: z.string().datetime(),
    groups: z.array(usageGroupSchema),
    totals: z.object({
      byMeter: z
        .record(z.string(), z.object({ quantity: z.number().int(), costMicroUsd: z.number().int() }))
        .openapi({ description: "Quantity and cost per meter over the whole range." }),
      costMicroUsd: z.number().int(),
    }),
  })
  .openapi("UsageReport");
export type UsageReport = z.infer<typeof usageReportSchema>;
