/**
 * Drives the model server with the real `@anthropic-ai/sdk` in Node, one line per check:
 *   npx tsx scripts/local-stack/model-server.check.ts
 * Exits non-zero when a check fails.
 */

import { checks } from "./model-server/checks.ts";
import { startModelServer } from "./model-server.ts";

const server = await startModelServer();
let failed = 0;
for (const check of checks) {
  try {
    await check.run({ baseURL: server.url, apiKey: server.apiKey });
    console.log(`ok   ${check.name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${check.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
await server.close();
console.log(`${checks.length - failed}/${checks.length} checks passed against ${server.url}`);
process.exitCode = failed > 0 ? 1 : 0;
