import { z } from "@hono/zod-openapi";
import { iso, timestamp } from "../../lib/schemas";
import { SECRET_NAME, type SecretInfo } from "../../lib/secrets";

/**
 * Names Meridian keeps for itself (the webhook signing key): the secrets API neither writes,
 * deletes nor lists them, so a tenant cannot overwrite or remove one. Whatever resolves
 * `{{secrets.NAME}}` for tenants (workflows, MCP configs) must refuse them too.
 */
export const RESERVED_SECRET_PREFIX = "meridian_";

export function isReservedSecretName(name: string): boolean {
  return name.startsWith(RESERVED_SECRET_PREFIX);
}

export const secretNameParam = z
  .string()
  .regex(SECRET_NAME, "a letter or underscore, then letters, digits or underscores; 1-64 characters")
  .refine((name) => !isReservedSecretName(name), `names starting with ${RESERVED_SECRET_PREFIX} are reserved`)
  .openapi({
    param: { name: "name", in: "path" },
    description:
      "The secret's name; workflows and MCP configs refer to it by this name. Names starting with " +
      "`meridian_` are reserved for the platform (400).",
    example: "GITHUB_TOKEN",
  });

export const secretSchema = z
  .object({
    name: z.string().openapi({ example: "GITHUB_TOKEN" }),
    keyId: z.string().openapi({
      description: "The master key that currently protects the value (changes when keys are rotated).",
      example: "k2026",
    }),
    createdAt: timestamp,
    updatedAt: timestamp.openapi({ description: "When the value was last set." }),
  })
  .openapi("Secret", { description: "A secret's metadata. The value is write-only and never returned." });
export type SecretResponse = z.infer<typeof secretSchema>;

export function toSecretResponse(row: SecretInfo): SecretResponse {
  return {
    name: row.name,
    keyId: row.keyId,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
