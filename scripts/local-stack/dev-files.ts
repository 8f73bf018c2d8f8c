import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localSecrets } from "./secrets.ts";

/** Where `npm run dev` keeps what must survive a restart; gitignored. */
export const DEV_DIR = join(process.cwd(), ".meridian");

function readJson<T>(name: string): T | undefined {
  const file = join(DEV_DIR, name);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : undefined;
}

export function writeJson(name: string, value: unknown): void {
  mkdirSync(DEV_DIR, { recursive: true });
  writeFileSync(join(DEV_DIR, name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The dev server's secrets, made once and then reused: the password pepper must not change
 * between runs or the seeded passwords stop verifying.
 */
export function devSecrets(): Record<string, string> {
  const existing = readJson<Record<string, string>>("dev-secrets.json");
  if (existing) return existing;
  const fresh = localSecrets();
  writeJson("dev-secrets.json", fresh);
  return fresh;
}

export interface DevCredentials {
  tenantSlug: string;
  tenantId: string;
  adminEmail: string;
  adminPassword: string;
  apiKey: string;
}

export function savedCredentials(): DevCredentials | undefined {
  return readJson<DevCredentials>("dev-credentials.json");
}

/** Writes KEY=value lines for `wrangler dev --env-file`. */
export function writeEnvFile(name: string, vars: Record<string, string>): string {
  mkdirSync(DEV_DIR, { recursive: true });
  const file = join(DEV_DIR, name);
  const lines = Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  return file;
}
