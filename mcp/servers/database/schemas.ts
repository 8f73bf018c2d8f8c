import { z } from "zod";
import { SECRET_NAME } from "../../../workers/lib/secrets";

/** The `connection` argument every tool takes. */
export const connectionField = z
  .string()
  .regex(SECRET_NAME, "must be a secret name: letters, digits and underscores, not starting with a digit")
  .optional()
  .describe(
    "Name of one of the tenant's secrets holding a postgres:// URL of the tenant's own database (a Neon " +
      "database, or one behind a Neon-compatible WebSocket proxy). Omit it to use the shared sample " +
      "database (a small shop: customers, products, orders, order_items, order_totals).",
  );

/** A schema, table or view name as PostgreSQL stores it (case-sensitive, not quoted). */
export const identifierField = (what: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .describe(`${what}, exactly as PostgreSQL stores it: case-sensitive, without quotes.`);
