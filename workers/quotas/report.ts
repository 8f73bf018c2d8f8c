import { z } from "@hono/zod-openapi";
import type { TenantDb } from "../../db/tenant";
import type { Tenant } from "../../db/types";
import { effectiveLimits, type PartialLimits, quotaKeys, quotasOf, tenantLimitsSchema } from "../lib/limits";
import { type Budget, budgetOf, budgetUsedPercent, periodOf, periodState } from "./budget";
import { resourceCounts } from "./counts";

const count = z.number().int().nonnegative();
const quotaValue = z.number().int().nullable();

export const quotaReportSchema = z
  .object({
    period: z.object({
      start: z.string().openapi({ example: "2026-11-01" }),
      end: z.string().openapi({ example: "2026-12-01", description: "Exclusive." }),
    }),
    quotas: z
      .object(
        Object.fromEntries(quotaKeys.map((key) => [key, quotaValue])) as Record<
          (typeof quotaKeys)[number],
          typeof quotaValue
        >,
      )
      .openapi({ description: "Each quota in force; null is unlimited." }),
    limits: z.record(z.string(), z.number()).openapi({
      description:
        "The run and request limits in force for the tenant (its defaults capped by its ceilings).",
    }),
    used: z.object({
      tokens: count.openapi({ description: "Model tokens recorded this month." }),
      costMicroUsd: count,
      heldTokens: count.openapi({ description: "Held by model calls in flight." }),
      heldMicroUsd: count,
      agents: count,
      collections: count,
      documents: count,
      storageBytes: count,
    }),
    remaining: z
      .object({
        monthlyTokenBudget: quotaValue,
        monthlyCostBudgetMicroUsd: quotaValue,
        maxAgents: quotaValue,
        maxCollections: quotaValue,
        maxDocuments: quotaValue,
        maxStorageBytes: quotaValue,
      })
      .openapi({
        description: "What is left under each quota (held amounts count as used); null is unlimited.",
      }),
    budgetUsedPercent: z.number().openapi({
      description: "The larger of the two budgets' used shares (spent and held), 0 without budgets.",
    }),
    warning: z
      .boolean()
      .openapi({ description: "Past the warning share of a budget (budgetWarningPercent)." }),
  })
  .openapi("QuotaReport");
export type QuotaReport = z.infer<typeof quotaReportSchema>;

export const configuredQuotasSchema = z
  .object({
    configured: tenantLimitsSchema.openapi({ description: "The ceilings and quotas as stored." }),
    report: quotaReportSchema,
  })
  .openapi("TenantQuotas");

/** The tenant's quotas, limits and what it has used and has left this month. */
export async function quotaReport(
  db: TenantDb,
  tenant: Pick<Tenant, "limits" | "settings">,
): Promise<QuotaReport> {
  const quotas = quotasOf(tenant.limits);
  const budget: Budget | null = budgetOf(quotas);
  const start = periodOf();
  const [state, counts] = await Promise.all([periodState(db, start), resourceCounts(db)]);
  const startDate = new Date(`${start}T00:00:00Z`);
  const end = periodOf(new Date(Date.UTC(startDate.getUTCFullYear(), startDate.getUTCMonth() + 1, 1)));
  const left = (max: number | null, used: number) => (max === null ? null : Math.max(0, max - used));
  const usedPercent = budgetUsedPercent(budget, state);
  return {
    period: { start, end },
    quotas: { ...quotas },
    limits: effectiveLimits({
      ceiling: tenant.limits as PartialLimits,
      defaults: tenant.settings.defaultLimits as PartialLimits | undefined,
    }),
    used: {
      tokens: state.spentTokens,
      costMicroUsd: state.spentMicroUsd,
      heldTokens: state.reservedTokens,
      heldMicroUsd: state.reservedMicroUsd,
      ...counts,
    },
    remaining: {
      monthlyTokenBudget: left(quotas.monthlyTokenBudget, state.spentTokens + state.reservedTokens),
      monthlyCostBudgetMicroUsd: left(
        quotas.monthlyCostBudgetMicroUsd,
        state.spentMicroUsd + state.reservedMicroUsd,
      ),
      maxAgents: left(quotas.maxAgents, counts.agents),
      maxCollections: left(quotas.maxCollections, counts.collections),
      maxDocuments: left(quotas.maxDocuments, counts.documents),
      maxStorageBytes: left(quotas.maxStorageBytes, counts.storageBytes),
    },
    budgetUsedPercent: Math.round(usedPercent * 100) / 100,
    warning: usedPercent >= quotas.budgetWarningPercent,
  };
}
