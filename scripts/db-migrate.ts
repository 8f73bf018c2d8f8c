/**
 * `npm run db:migrate`: applies the migrations.
 * - With MIGRATION_DATABASE_URL: to that database, connected as the table owner (deploys; e.g.
 *   Neon's owner role). The app role's URL is the Worker's DATABASE_URL, never this one.
 * - Without: to the local development database, creating roles and database first.
 */
import { join } from "node:path";
import { DEV_DIR } from "./local-stack/dev-files.ts";
import { startLocalStack } from "./local-stack/index.ts";
import { runMigrations } from "./local-stack/migrate.ts";

const target = process.env.MIGRATION_DATABASE_URL;
if (target) {
  await runMigrations(target);
  console.log("migrations applied");
} else {
  const stack = await startLocalStack({
    database: process.env.MERIDIAN_DEV_DATABASE ?? "meridian",
    embeddedDataDir: join(DEV_DIR, "pglite"),
  });
  for (const line of stack.describe) console.log(line);
  console.log("migrations applied to the local database");
  await stack.close();
}
