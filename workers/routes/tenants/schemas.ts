import { z } from "@hono/zod-openapi";
import type { Tenant } from "../../../db/types";
import { effectiveLimits, limitsSchema, PLATFORM_DEFAULTS, tenantLimitsSchema } from "../../lib/limits";
import { iso, timestamp } from "../../lib/schemas";

export const tenantSettingsSchema = z
  .object({
    allowedModels: z
      .array(z.string().min(1).max(128))
      .max(50)
      .optional()
      .openapi({ description: "Models agents may use; empty or absent allows the platform's list." }),
    defaultLimits: limitsSchema.optional(),
    billingWebhookUrl: z.string().url().max(2048).optional().openapi({
      description:
        "Receives the tenant's signed billing webhooks: `budget.threshold_crossed` at 50, 80 and 100 % of a monthly budget, and `usage.rollup` for each closed hour with usage.",
      example: "https://billing.example.com/meridian",
    }),
    named: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
        z.union([z.string().max(4096), z.number(), z.boolean()]),
      )
      .refine((v) => Object.keys(v).length <= 100, "at most 100 named settings")
      .optional()
      .openapi({ description: "Named settings workflows read as {{env.NAME}}. Not for secrets." }),
  })
  .strict()
  .openapi("TenantSettings");

export const tenantSchema = z
  .object({
    id: z.string().uuid(),
    slug: z.string().openapi({ example: "acme" }),
    name: z.string().openapi({ example: "Acme Corp" }),
    status: z.enum(["active", "suspended"]),
    settings: tenantSettingsSchema,
    limits: tenantLimitsSchema.openapi({ description: "Ceilings and quotas set by the platform admin." }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("Tenant");
export type TenantResponse = z.infer<typeof tenantSchema>;

export function toTenantResponse(row: Tenant): TenantResponse {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: row.status,
    settings: row.settings as z.infer<typeof tenantSettingsSchema>,
    limits: row.limits,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export const effectiveLimitsSchema = limitsSchema.required().openapi("EffectiveLimits", {
  description:
    "The limits in force for the tenant: its defaults (else the platform's), capped by its ceilings and the platform maxima.",
  example: PLATFORM_DEFAULTS,
});

export const tenantDetailSchema = tenantSchema
  .extend({ effectiveLimits: effectiveLimitsSchema })
  .openapi("TenantDetail");
export type TenantDetailResponse = z.infer<typeof tenantDetailSchema>;

export function toTenantDetailResponse(row: Tenant): TenantDetailResponse {
  const limits = effectiveLimits({ ceiling: row.limits, defaults: row.settings.defaultLimits });
  return {
    ...toTenantResponse(row),
    effectiveLimits: limits,
  };
}
