import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { type TenantSettings, tenants } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { checkOutboundUrl } from "../../lib/outbound-fetch";
import { problemResponses } from "../../lib/problem-responses";
import { webhookPolicy } from "../../lib/webhooks";
import { loadTenant } from "../tenants/load";
import { tenantDetailSchema, tenantSettingsSchema, toTenantDetailResponse } from "../tenants/schemas";
import { checkTenantSettings } from "./validate";

const SETTINGS = ["allowedModels", "defaultLimits", "billingWebhookUrl", "named"] as const;

const settingsPatch = z
  .object({
    allowedModels: tenantSettingsSchema.shape.allowedModels.nullable(),
    defaultLimits: tenantSettingsSchema.shape.defaultLimits.nullable().openapi({
      description: "Limits for agents that set none; each must be within the tenant's ceiling.",
    }),
    billingWebhookUrl: tenantSettingsSchema.shape.billingWebhookUrl.nullable(),
    named: tenantSettingsSchema.shape.named.nullable(),
  })
  .strict()
  .openapi("TenantSettingsPatch", {
    description: "Each setting sent replaces the stored one; null removes it; one left out is kept.",
    example: { defaultLimits: { maxTokens: 2048 }, named: { REGION: "eu" } },
  });

const body = z
  .object({
    name: z.string().trim().min(1).max(200).optional().openapi({ example: "Acme Corp" }),
    settings: settingsPatch.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .openapi("UpdateCurrentTenantRequest", {
    description: "Ceilings (`limits`), slug and status are the platform admin's and cannot be set here.",
  });

const route = createRoute({
  operationId: "updateCurrentTenant",
  tags: ["tenant"],
  method: "patch",
  path: "/v1/tenant",
  summary: "Rename the caller's tenant or change its settings",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    200: {
      description: "The updated tenant.",
      content: { "application/json": { schema: tenantDetailSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 422, 429, 500),
  },
});

export function registerUpdateCurrentTenant(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "tenant:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    // Row lock: a concurrent ceiling change by the platform admin cannot slip in between the
    // check below and the write.
    const current = await loadTenant(db, { forUpdate: true });
    const patch = input.settings ?? {};
    checkTenantSettings(current, patch);
    if (patch.billingWebhookUrl) checkOutboundUrl(patch.billingWebhookUrl, webhookPolicy(c.get("config")));

    const settings = Object.fromEntries(
      Object.entries({ ...current.settings, ...patch }).filter(([, v]) => v !== null && v !== undefined),
    ) as TenantSettings;
    const name = input.name ?? current.name;
    const changed = [
      ...(name !== current.name ? ["name"] : []),
      ...SETTINGS.filter((k) => JSON.stringify(settings[k]) !== JSON.stringify(current.settings[k])).map(
        (k) => `settings.${k}`,
      ),
    ];
    if (changed.length === 0) return c.json(toTenantDetailResponse(current), 200);

    const [updated] = await db
      .update(tenants)
      .set({ name, settings })
      .where(eq(tenants.id, current.id))
      .returning();
    if (!updated) throw new ApiError("NOT_FOUND", { detail: `Tenant ${current.id} not found.` });
    await audit(c, {
      action: "tenant.update",
      resourceType: "tenant",
      resourceId: current.id,
      // Named settings are recorded by key only: they are free-form and may be sensitive.
      changes: {
        fields: changed,
        ...(changed.includes("name") ? { name } : {}),
        ...(changed.includes("settings.allowedModels")
          ? { allowedModels: settings.allowedModels ?? null }
          : {}),
        ...(changed.includes("settings.defaultLimits")
          ? { defaultLimits: settings.defaultLimits ?? null }
          : {}),
        ...(changed.includes("settings.named") ? { namedKeys: Object.keys(settings.named ?? {}) } : {}),
      },
    });
    return c.json(toTenantDetailResponse(updated), 200);
  });
}
