import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

export const MIGRATIONS_FOLDER = new URL("../../db/migrations", import.meta.url).pathname;

/**
 * Applies the checked-in drizzle-kit migrations as the table owner. An advisory lock
 * serialises concurrent runners (a dev server and a test run starting together).
 *
 * @example
 * await runMigrations("postgres://meridian_owner:pw@127.0.0.1:5432/meridian");
 */
export async function runMigrations(ownerUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock(hashtext('meridian.migrations'))");
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.query("select pg_advisory_unlock(hashtext('meridian.migrations'))").catch(() => undefined);
    await client.end();
  }
}
