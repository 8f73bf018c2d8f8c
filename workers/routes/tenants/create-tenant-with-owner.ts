import { z } from "@hono/zod-openapi";
import { tenants, users } from "../../../db/schema";
import type { Context } from "../../app";
import { hashPassword } from "../../auth/passwords";
import type { Principal } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { tenantLimitsSchema } from "../../lib/limits";
import { isUniqueViolation } from "../../lib/pg-errors";
import { email, password, slug } from "../../lib/schemas";
import { runInTenant } from "../../middleware/tenant-db";
import { tenantSchema, tenantSettingsSchema, toTenantResponse } from "./schemas";

/** A new tenant and its first user. Each route names (and may narrow) it for its own document. */
export const newTenantSchema = z
  .object({
    slug: slug.openapi({ description: "Unique name used at login." }),
    name: z.string().trim().min(1).max(200).openapi({ example: "Acme Corp" }),
    owner: z
      .object({ email, name: z.string().trim().max(200).optional(), password })
      .strict()
      .openapi({ description: "The tenant's first user, with the owner role." }),
    limits: tenantLimitsSchema.optional(),
    settings: tenantSettingsSchema.optional(),
  })
  .strict();
export type NewTenantInput = z.infer<typeof newTenantSchema>;

export const createdTenantSchema = z
  .object({
    tenant: tenantSchema,
    owner: z.object({ id: z.string().uuid(), email: z.string(), role: z.literal("owner") }),
  })
  .openapi("CreateTenantResponse");
export type CreatedTenant = z.infer<typeof createdTenantSchema>;

/**
 * Creates a tenant and its owner in one transaction scoped to the new tenant, and audits it.
 * The audit row names the caller; a caller without a principal (open signup) is the new
 * owner, acting for themself.
 *
 * @throws ApiError CONFLICT when the slug is taken.
 * @example
 * return c.json(await createTenantWithOwner(c, c.req.valid("json")), 201);
 */
export async function createTenantWithOwner(c: Context, input: NewTenantInput): Promise<CreatedTenant> {
  const caller: Principal | undefined = c.get("principal");
  const tenantId = newId();
  const passwordHash = await hashPassword(input.owner.password, c.get("config").PASSWORD_PEPPER);
  try {
    return await runInTenant(c, tenantId, async (db) => {
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
        ...(caller ? {} : { actor: { type: "user" as const, id: owner.id } }),
      });
      return { tenant: toTenantResponse(tenant), owner: { ...owner, role: "owner" as const } };
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ApiError("CONFLICT", { detail: `The slug "${input.slug}" is taken.` });
    throw error;
  }
}
