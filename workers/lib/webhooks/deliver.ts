import { and, eq, sql } from "drizzle-orm";
import { webhookDeliveries } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { ApiError } from "../errors";
import { type OutboundPolicy, outboundFetch } from "../outbound-fetch";
import type { SecretsConfig } from "../secrets";
import { WEBHOOK_HEADERS, WEBHOOK_USER_AGENT, webhookBody } from "./events";
import { signWebhook } from "./sign";
import { ensureSigningSecret } from "./signing-key";

/** How long a receiver has to answer, body included. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Only an error answer's first characters are kept, for the delivery log. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const MAX_ERROR_CHARS = 500;

/** What one attempt came to. Every kind but `delivered` and `settled` wants a retry or a record. */
export type DeliveryOutcome =
  | { kind: "delivered"; statusCode: number; attempts: number }
  /** The receiver failed or could not be reached; `permanent` when no retry can help (URL refused). */
  | { kind: "failed"; statusCode: number | null; error: string; attempts: number; permanent: boolean }
  /** Already delivered or failed: nothing is sent (a redelivered or stale message). */
  | { kind: "settled"; status: "delivered" | "failed" }
  /** Another transaction holds the row: an attempt in flight, or a replay not yet committed. */
  | { kind: "busy" }
  /** No such row yet (its transaction has not committed) or any more (the tenant is gone). */
  | { kind: "missing" };

export interface AttemptOptions {
  /** When the queue will retry this message if the attempt fails; stored as `nextAttemptAt`. */
  retryInSeconds: number;
  policy?: OutboundPolicy;
  /** Unix milliseconds for the signature's timestamp. @default Date.now() */
  now?: number;
}

/**
 * One delivery attempt, inside the caller's tenant transaction. The row is locked (`for update
 * skip locked`) from the status check until the result is written, so two consumers of the
 * same delivery cannot both send it, and a delivery recorded as delivered is never sent again.
 * The lock is held across the POST; the transaction commits when the caller's `withTenant`
 * returns, so a failed attempt is recorded even though the job then throws to be retried.
 *
 * Redirects are not followed (a 3xx is a failed attempt): a POST turned into a GET by a
 * redirect would reach the receiver without its body.
 *
 * @example
 * const outcome = await withTenant(client, tenantId, (db) =>
 *   attemptDelivery(db, config, deliveryId, { retryInSeconds: 10, policy }));
 */
export async function attemptDelivery(
  db: TenantDb,
  config: SecretsConfig,
  deliveryId: string,
  opts: AttemptOptions,
): Promise<DeliveryOutcome> {
  const where = and(eq(webhookDeliveries.tenantId, db.tenantId), eq(webhookDeliveries.id, deliveryId));
  const [row] = await db.select().from(webhookDeliveries).where(where).for("update", { skipLocked: true });
  if (!row) {
    const [exists] = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(where);
    return exists ? { kind: "busy" } : { kind: "missing" };
  }
  if (row.status !== "pending") return { kind: "settled", status: row.status };

  const secret = await ensureSigningSecret(db, config);
  const body = webhookBody(row);
  const timestampSec = Math.floor((opts.now ?? Date.now()) / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    [WEBHOOK_HEADERS.signature]: await signWebhook(secret, body, timestampSec),
    [WEBHOOK_HEADERS.eventId]: row.eventId,
    [WEBHOOK_HEADERS.eventType]: row.eventType,
  };
  const attempts = row.attempts + 1;
  let statusCode: number | null = null;
  let error: string;
  let permanent = false;
  try {
    const res = await outboundFetch(
      row.url,
      { method: "POST", headers, body, redirect: "manual" },
      { ...opts.policy, timeoutMs: WEBHOOK_TIMEOUT_MS, maxResponseBytes: MAX_RESPONSE_BYTES },
    );
    statusCode = res.status;
    if (res.ok) {
      await res.body?.cancel().catch(() => undefined);
      await db
        .update(webhookDeliveries)
        .set({
          status: "delivered",
          attempts,
          lastStatusCode: statusCode,
          lastError: null,
          nextAttemptAt: null,
          deliveredAt: sql`now()`,
        })
        .where(where);
      return { kind: "delivered", statusCode, attempts };
    }
    error = await describeAnswer(res);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    // The URL itself is refused (outbound policy): every retry would be refused the same way.
    permanent = err instanceof ApiError && err.code === "UNPROCESSABLE";
  }
  error = error.slice(0, MAX_ERROR_CHARS);
  await db
    .update(webhookDeliveries)
    .set({
      attempts,
      lastStatusCode: statusCode,
      lastError: error,
      status: permanent ? "failed" : "pending",
      nextAttemptAt: permanent ? null : sql`now() + make_interval(secs => ${opts.retryInSeconds})`,
    })
    .where(where);
  return { kind: "failed", statusCode, error, attempts, permanent };
}

/** A non-2xx answer as one line for the log: status, redirect target or the body's start. */
async function describeAnswer(res: Response): Promise<string> {
  const location = res.headers.get("location");
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    return `HTTP ${res.status}: webhooks do not follow redirects${location ? ` (Location: ${location})` : ""}`;
  }
  const text = await res.text().catch(() => "");
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return snippet ? `HTTP ${res.status}: ${snippet}` : `HTTP ${res.status}`;
}

/**
 * Marks a delivery whose message exhausted its retries (the dead-letter queue) as failed. Only
 * a pending row changes: one delivered in the meantime stays delivered.
 *
 * @returns whether a row changed.
 */
export async function markDeliveryFailed(db: TenantDb, deliveryId: string): Promise<boolean> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ status: "failed", nextAttemptAt: null })
    .where(
      and(
        eq(webhookDeliveries.tenantId, db.tenantId),
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.status, "pending"),
      ),
    )
    .returning({ id: webhookDeliveries.id });
  return rows.length > 0;
}
