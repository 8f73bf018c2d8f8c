/** `npm run db:seed`: the demo tenant, its admin and an API key in the local database. */
import { join } from "node:path";
import { DEV_DIR, devSecrets } from "./local-stack/dev-files.ts";
import { startLocalStack } from "./local-stack/index.ts";
import { seedDemo } from "./local-stack/seed.ts";

const stack = await startLocalStack({
  database: process.env.MERIDIAN_DEV_DATABASE ?? "meridian",
  embeddedDataDir: join(DEV_DIR, "pglite"),
});
try {
  const credentials = await seedDemo(stack.ownerUrl, devSecrets().PASSWORD_PEPPER as string);
  console.log(`tenant ${credentials.tenantSlug}: ${credentials.adminEmail} / ${credentials.adminPassword}`);
  console.log(`API key: ${credentials.apiKey}`);
} finally {
  await stack.close();
}
