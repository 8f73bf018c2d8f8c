/**
 * `npm run dev`: the whole platform on this machine. Starts PostgreSQL and Redis access
 * (servers when reachable, embedded stand-ins otherwise), migrates, seeds a demo tenant,
 * then runs `wrangler dev` and prints where to go and how to sign in.
 */
import { spawn } from "node:child_process";
import { devSecrets, writeEnvFile } from "./local-stack/dev-files.ts";
import { startLocalStack } from "./local-stack/index.ts";
import { seedDemo } from "./local-stack/seed.ts";

const PORT = Number(process.env.PORT ?? 8787);

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the API did not answer at ${url} within ${timeoutMs / 1000}s`);
}

const stack = await startLocalStack({ database: process.env.MERIDIAN_DEV_DATABASE ?? "meridian" });
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

const wrangler = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--env-file",
    envFile,
    "--port",
    String(PORT),
    "--ip",
    "127.0.0.1",
    "--show-interactive-dev-session=false",
  ],
  { stdio: ["ignore", "inherit", "inherit"] },
);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  await stack.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 1));

const base = `http://127.0.0.1:${PORT}`;
await waitForHealth(`${base}/health`, 120_000);
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
