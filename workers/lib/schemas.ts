import { z } from "@hono/zod-openapi";

/** Shared field schemas, so every route describes the same thing the same way. */

export const uuidParam = (name: string, what: string) =>
  z
    .string()
    .uuid()
    .openapi({
      param: { name, in: "path" },
      description: `The ${what} id.`,
      example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d",
    });

/** The `Idempotency-Key` request header of a route; `description` says what a retry with it does there. */
export const idempotencyKeyHeader = (description: string) =>
  z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/)
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description,
      example: "7f9c2ba4-e88f-4c6b-9b1a-0c2d3e4f5a6b",
    });

export const timestamp = z.string().datetime().openapi({ example: "2026-11-26T08:00:00.000Z" });

export const email = z.string().trim().toLowerCase().email().max(254).openapi({ example: "ada@example.com" });

/** At least 12 characters; no composition rules (NIST SP 800-63B). */
export const password = z.string().min(12).max(256).openapi({ example: "correct horse battery staple" });

export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes; 1-63 characters")
  .openapi({ example: "acme" });

/** Free-form JSON metadata, bounded so one field cannot carry a whole document. */
export const metadata = z
  .record(z.string().max(64), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 16_384, "metadata is limited to 16 KiB of JSON")
  .openapi({ example: { team: "support" } });

export function iso(date: Date | string): string {
  return (date instanceof Date ? date : new Date(date)).toISOString();
}
