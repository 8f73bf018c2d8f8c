/**
 * `npm run dev`: the whole platform on this machine. Starts PostgreSQL and Redis access
 * (servers when reachable, embedded stand-ins otherwise), migrates, seeds a demo tenant,
 * then runs `wrangler dev` and prints where to go and how to sign in.
 */
import { join } from "node:path";
import { DEV_DIR, devSecrets, writeEnvFile } from "./local-stack/dev-files.ts";
import { startLocalStack } from "./local-stack/index.ts";
import { seedDemo } from "./local-stack/seed.ts";
import { startWranglerDev, waitUntilUp } from "./local-stack/wrangler-dev.ts";

const PORT = Number(process.env.PORT ?? 8787);

const stack = await startLocalStack({
  database: process.env.MERIDIAN_DEV_DATABASE ?? "meridian",
  // Used only when no PostgreSQL server is reachable: the embedded database then survives restarts.
  embeddedDataDir: join(DEV_DIR, "pglite"),
});
for (const line of stack.describe) console.log(`[local stack] ${line}`);
const secrets = devSecrets();
const credentials = await seedDemo(stack.ownerUrl, secrets.PASSWORD_PEPPER as string);
const envFile = writeEnvFile("dev.env", {
  ...stack.bindings,
  ...secrets,
  ENVIRONMENT: "development",
  ALLOW_SIGNUP: "true",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  CORS_ORIGINS: process.env.CORS_ORIGINS ?? "http://localhost:3000,http://127.0.0.1:3000",
});

const wrangler = startWranglerDev(["--env-file", envFile, "--port", String(PORT), "--ip", "127.0.0.1"]);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  wrangler.stop();
  await stack.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.process.on("exit", (code) => void stop(code ?? 1));

const base = `http://127.0.0.1:${PORT}`;
await waitUntilUp(`${base}/health`, 120_000);
console.log(`
Meridian is running at ${base}
  API docs        ${base}/docs   (OpenAPI: ${base}/openapi.json)
${stack.describe.map((line) => `  ${line}`).join("\n")}

Demo tenant "${credentials.tenantSlug}"
  admin           ${credentials.adminEmail} / ${credentials.adminPassword}
  API key         ${credentials.apiKey}
  platform admin  ${secrets.PLATFORM_ADMIN_TOKEN}

Try:
  curl -H "Authorization: Bearer ${credentials.apiKey}" ${base}/v1/agents
(credentials are kept in .meridian/; Ctrl-C stops everything)
`);
