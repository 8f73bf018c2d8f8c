import { z } from "@hono/zod-openapi";

/**
 * The platform's one limits model. A value is resolved in three layers:
 *   agent override (agents.resource_limits)
 *   -> tenant default (tenants.settings.defaultLimits, set by the tenant's admins)
 *   -> platform default,
 * and is then capped by the tenant's ceiling (tenants.limits, set by the platform admin) and
 * the platform maximum. The agents, workflows and quotas work all read `effectiveLimits`.
 *
 * Quotas (budgets, counts, storage) are the second part of the same model: tenant-wide, set only
 * by the platform admin in the same `tenants.limits` object, with no default or agent layer; an
 * absent quota is unlimited. See `quotasOf`.
 */
export const limitKeys = [
  "maxTokens",
  "maxExecutionSeconds",
  "maxToolIterations",
  "maxToolOutputBytes",
  "maxConcurrentExecutions",
  "requestsPerMinute",
  "maxWorkflowSteps",
  "maxParallelBranches",
  "maxConcurrentWorkflows",
  "maxWorkflowPayloadBytes",
] as const;
export type LimitKey = (typeof limitKeys)[number];
export type Limits = Record<LimitKey, number>;

export const PLATFORM_DEFAULTS: Limits = {
  maxTokens: 4096,
  maxExecutionSeconds: 120,
  maxToolIterations: 10,
  maxToolOutputBytes: 65_536,
  maxConcurrentExecutions: 10,
  requestsPerMinute: 600,
  maxWorkflowSteps: 50,
  maxParallelBranches: 10,
  maxConcurrentWorkflows: 20,
  maxWorkflowPayloadBytes: 262_144,
};

export const PLATFORM_MAXIMA: Limits = {
  maxTokens: 200_000,
  maxExecutionSeconds: 900,
  maxToolIterations: 100,
  maxToolOutputBytes: 1_048_576,
  maxConcurrentExecutions: 500,
  requestsPerMinute: 60_000,
  maxWorkflowSteps: 200,
  maxParallelBranches: 50,
  maxConcurrentWorkflows: 1_000,
  maxWorkflowPayloadBytes: 1_048_576,
};

/** A partial set of limits, as stored at any layer. */
export const limitsSchema = z
  .object({
    maxTokens: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Most output tokens per model call." }),
    maxExecutionSeconds: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Wall time per run." }),
    maxToolIterations: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Tool rounds per run." }),
    maxToolOutputBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Bytes kept per tool result." }),
    maxConcurrentExecutions: z.number().int().positive().optional().openapi({ description: "Runs at once." }),
    requestsPerMinute: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "API requests per minute." }),
    maxWorkflowSteps: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Steps per workflow definition, branches included." }),
    maxParallelBranches: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Branches of one parallel step." }),
    maxConcurrentWorkflows: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Workflow executions in progress at once." }),
    maxWorkflowPayloadBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Bytes of an execution's input, and of each step's output." }),
  })
  .strict()
  .openapi("Limits", { example: { maxTokens: 8192, maxToolIterations: 5 } });
export type PartialLimits = z.infer<typeof limitsSchema>;

/**
 * The limits in force for one agent (or for the tenant, without `agent`).
 *
 * @example
 * effectiveLimits({ ceiling: tenant.limits, defaults: tenant.settings.defaultLimits, agent: agent.resourceLimits })
 */
export function effectiveLimits(layers: {
  ceiling?: PartialLimits;
  defaults?: PartialLimits;
  agent?: PartialLimits;
}): Limits {
  const out = {} as Limits;
  for (const key of limitKeys) {
    const wanted = layers.agent?.[key] ?? layers.defaults?.[key] ?? PLATFORM_DEFAULTS[key];
    out[key] = Math.min(wanted, layers.ceiling?.[key] ?? Number.POSITIVE_INFINITY, PLATFORM_MAXIMA[key]);
  }
  return out;
}

/** Keys of `requested` that exceed the tenant ceiling or the platform maximum, for a 422. */
export function limitsAboveCeiling(requested: PartialLimits, ceiling: PartialLimits = {}): LimitKey[] {
  return limitKeys.filter((key) => {
    const value = requested[key];
    if (value === undefined) return false;
    return value > Math.min(ceiling[key] ?? Number.POSITIVE_INFINITY, PLATFORM_MAXIMA[key]);
  });
}

export const quotaKeys = [
  "monthlyTokenBudget",
  "monthlyCostBudgetMicroUsd",
  "budgetWarningPercent",
  "maxAgents",
  "maxCollections",
  "maxDocuments",
  "maxStorageBytes",
] as const;
export type QuotaKey = (typeof quotaKeys)[number];

/** The share of a budget past which responses carry a warning, unless the tenant's quotas say otherwise. */
export const DEFAULT_BUDGET_WARNING_PERCENT = 80;

const quota = (description: string) => z.number().int().positive().optional().openapi({ description });

const quotaFields = {
  monthlyTokenBudget: quota(
    "Model tokens (input, output, cache writes and reads) per calendar month in UTC, across all runs.",
  ),
  monthlyCostBudgetMicroUsd: quota("Model spend per calendar month in UTC, in millionths of a US dollar."),
  budgetWarningPercent: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({
      description: `Past this share of a budget, responses carry a Meridian-Quota-Warning header (default ${DEFAULT_BUDGET_WARNING_PERCENT}).`,
    }),
  maxAgents: quota("Agents at once (deleted ones not counted)."),
  maxCollections: quota("Knowledge collections at once."),
  maxDocuments: quota("Documents at once, across collections."),
  maxStorageBytes: quota("Bytes of documents' originals at once."),
};

/**
 * A tenant's ceilings and quotas, as the platform admin sets them (`tenants.limits`): the run
 * and workflow limits' ceilings plus the tenant-wide quotas.
 */
export const tenantLimitsSchema = limitsSchema
  .extend(quotaFields)
  .strict()
  .openapi("TenantLimits", {
    example: { requestsPerMinute: 1200, monthlyCostBudgetMicroUsd: 50_000_000, maxAgents: 100 },
  });
export type TenantLimitsInput = z.infer<typeof tenantLimitsSchema>;

/** Each quota in force for a tenant: `null` is unlimited. */
export type Quotas = Record<Exclude<QuotaKey, "budgetWarningPercent">, number | null> & {
  budgetWarningPercent: number;
};

export function quotasOf(ceiling: Partial<Record<string, number>> | undefined): Quotas {
  const value = (key: QuotaKey) => ceiling?.[key] ?? null;
  return {
    monthlyTokenBudget: value("monthlyTokenBudget"),
    monthlyCostBudgetMicroUsd: value("monthlyCostBudgetMicroUsd"),
    budgetWarningPercent: value("budgetWarningPercent") ?? DEFAULT_BUDGET_WARNING_PERCENT,
    maxAgents: value("maxAgents"),
    maxCollections: value("maxCollections"),
    maxDocuments: value("maxDocuments"),
    maxStorageBytes: value("maxStorageBytes"),
  };
}
