import type { Client } from "@neondatabase/serverless";

/**
 * Records the text of every `query` call made on `client` from now on (each call is one round
 * trip), for tests that count what a piece of code sends.
 *
 * @example
 * const sent = recordStatements(client);
 * await withTenant(client, tenantId, fn);
 * expect(sent).toHaveLength(2);
 */
export function recordStatements(client: Client): string[] {
  const sent: string[] = [];
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    query: (...args: unknown[]) => {
      const first = args[0] as string | { text: string };
      sent.push(typeof first === "string" ? first : first.text);
      return query(...args);
    },
  });
  return sent;
}
