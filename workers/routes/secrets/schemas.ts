import { z } from "@hono/zod-openapi";
import { iso, timestamp } from "../../lib/schemas";
import { SECRET_NAME, type SecretInfo } from "../../lib/secrets";

export const secretNameParam = z
  .string()
  .regex(SECRET_NAME, "a letter or underscore, then letters, digits or underscores; 1-64 characters")
  .openapi({
    param: { name: "name", in: "path" },
    description: "The secret's name; workflows and MCP configs refer to it by this name.",
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
