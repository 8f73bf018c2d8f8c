import { createRoute, z } from "@hono/zod-openapi";
import { tenants, users } from "../../../db/schema";
import type { App } from "../../app";
import { hashPassword } from "../../auth/passwords";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { limitsSchema } from "../../lib/limits";
import { isUniqueViolation } from "../../lib/pg-errors";
import { problemResponses } from "../../lib/problem-responses";
import { email, password, slug } from "../../lib/schemas";
import { runInTenant } from "../../middleware/tenant-db";
import { tenantSchema, tenantSettingsSchema, toTenantResponse } from "./schemas";

const body = z
  .object({
    slug: slug.openapi({ description: "Unique name used at login." }),
    name: z.string().trim().min(1).max(200).openapi({ example: "Acme Corp" }),
    owner: z
      .object({ email, name: z.string().trim().max(200).optional(), password })
      .strict()
      .openapi({ description: "The tenant's first user, with the owner role." }),
    limits: limitsSchema.optional(),
    settings: tenantSettingsSchema.optional(),
  })
  .strict()
  .openapi("CreateTenantRequest");

const created = z
  .object({
    tenant: tenantSchema,
    owner: z.object({ id: z.string().uuid(), email: z.string(), role: z.literal("owner") }),
  })
  .openapi("CreateTenantResponse");
export type CreateTenantResponse = z.infer<typeof created>;

const route = createRoute({
  operationId: "createTenant",
  tags: ["tenants"],
  method: "post",
  path: "/v1/tenants",
  summary: "Create a tenant and its owner (platform admin)",
  description: "Retry-safe without an Idempotency-Key: the slug is unique, so a repeat answers 409.",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: created } } },
    ...problemResponses(400, 401, 403, 409, 413, 422, 429, 500),
  },
});

export function registerCreateTenant(app: App) {
  app.openapi(route, async (c) => {
    requirePlatformAdmin(c);
    const input = c.req.valid("json");
    const tenantId = newId();
    const passwordHash = await hashPassword(input.owner.password, c.get("config").PASSWORD_PEPPER);
    try {
      const result = await runInTenant(c, tenantId, async (db) => {
        const [tenant] = await db
          .insert(tenants)
          .values({
            id: tenantId,
            slug: input.slug,
            name: input.name,
            limits: input.limits ?? {},
            settings: input.settings ?? {},
          })
          .returning();
        const [owner] = await db
          .insert(users)
          .values({
            tenantId,
            email: input.owner.email,
            name: input.owner.name ?? null,
            passwordHash,
            role: "owner",
            status: "active",
          })
          .returning({ id: users.id, email: users.email });
        if (!tenant || !owner) throw new Error("insert returned no row");
        await audit(c, {
          action: "tenant.create",
          resourceType: "tenant",
          resourceId: tenantId,
          changes: { slug: input.slug },
        });
        return { tenant: toTenantResponse(tenant), owner: { ...owner, role: "owner" as const } };
      });
      return c.json(result, 201);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ApiError("CONFLICT", { detail: `The slug "${input.slug}" is taken.` });
      throw error;
    }
  });
}
