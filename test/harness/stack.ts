import { describe, inject } from "vitest";

/**
 * What the global setup connected to: "server" (real PostgreSQL and Redis) or "embedded"
 * (PGlite and/or the in-memory Redis emulation, on a machine with neither installed).
 */
export const stack = inject("stack");

/** True on the embedded stack, where tests that need real servers must skip. */
export const needsServer = stack !== "server";

/** Why such tests skip; shown in the skipped test's note or suite name. */
export const EMBEDDED_REASON =
  "needs real PostgreSQL and Redis servers; this run uses embedded stand-ins (one PGlite session that runs one transaction at a time, an in-memory Redis emulation)";

/**
 * Skips the current test on the embedded stack, with the reason as its note. Call it first.
 *
 * @example
 * it("two concurrent inserts of one slug give one 201 and one 409", async (ctx) => {
 *   skipUnlessServer(ctx, "a race between two transactions");
 *   ...
 * });
 */
export function skipUnlessServer(
  ctx: { skip(condition: boolean, note?: string): void },
  what = "this test",
): void {
  ctx.skip(needsServer, `${what} ${EMBEDDED_REASON}`);
}

/**
 * A `describe` that skips on the embedded stack; the reason goes into the suite's name there, so
 * every reporter shows why.
 *
 * @example
 * describeOnServer("row locks", () => { it("...", async () => {}); });
 */
export function describeOnServer(name: string, fn: () => void): void {
  describe.skipIf(needsServer)(needsServer ? `${name} [skipped: ${EMBEDDED_REASON}]` : name, fn);
}
