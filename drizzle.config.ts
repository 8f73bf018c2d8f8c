import { defineConfig } from "drizzle-kit";

/**
 * `drizzle-kit generate` needs no database; `migrate` and `studio` read DATABASE_URL, which must
 * name the table owner (meridian_owner), never the Worker's meridian_app role.
 */
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
  dbCredentials: {
    url: process.env.DATABASE_URL ?? "",
  },
  strict: true,
  verbose: true,
});
