import { env } from "cloudflare:workers";
import { afterEach, inject } from "vitest";
import { type ConnectionConfig, connect } from "../../db/client";

/** The table owner: sees every tenant's rows, to check what the API cannot show (or backdate rows). */
const owner: ConnectionConfig = {
  DATABASE_URL: inject("ownerDatabaseUrl"),
  NEON_WS_PROXY: (env as unknown as { NEON_WS_PROXY?: string }).NEON_WS_PROXY,
};

let client: ReturnType<typeof connect> | undefined;
afterEach(async () => {
  const open = client;
  client = undefined;
  await (await open)?.end();
});

/** One statement as the table owner, on the test's one owner connection (closed after the test). */
export async function ownerQuery<T extends Record<string, unknown> = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<{ rows: T[] }> {
  client ??= connect(owner);
  return (await (await client).query(sql, params)) as unknown as { rows: T[] };
}
