import { z } from "@hono/zod-openapi";
import { and, eq, gt, sql } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { idempotencyKeys } from "../../db/schema";
import type { HonoEnv } from "../app";
import { authorize } from "../auth/authorize";
import { credentialKey } from "../auth/principal";
import type { Permission } from "../auth/roles";
import { sha256Hex } from "../lib/bytes";
import { ApiError } from "../lib/errors";
import { idempotencyKeyHeader } from "../lib/schemas";

/** How long a key's first response is kept for replay. */
export const IDEMPOTENCY_TTL_HOURS = 24;
const KEY = /^[\x21-\x7e]{1,255}$/;
/** Response headers worth replaying; hop-by-hop and per-request ones are left out. */
const REPLAYED_HEADERS = ["content-type", "location"];

/** The header as routes declare it, so the OpenAPI document shows where it is honoured. */
export const idempotencyHeaders = z.object({
  "idempotency-key": idempotencyKeyHeader(
    "Makes a retry safe: the same key with the same body within 24 h replays the first response " +
      "(with Idempotent-Replayed: true); another body is 422, a retry while the first is running 409.",
  ),
});

/**
 * `Idempotency-Key` for POSTs that create or start something. Runs inside the request's
 * tenant transaction (after `tenantDb`), so the stored response commits atomically with the
 * work it describes: a retry either replays it or, if the first attempt rolled back, does the
 * work afresh. A transaction-scoped advisory lock on (tenant, principal, key) turns a
 * concurrent duplicate into 409 instead of a second execution.
 */
export function idempotency(permission: Permission) {
  return createMiddleware<HonoEnv>(async function idempotencyMiddleware(c, next) {
    // Checked here as well as in the handler: a replay skips the handler, and a caller who has
    // lost the permission since must not get the stored response back.
    authorize(c, permission);
    const key = c.req.header("idempotency-key");
    if (key === undefined) return next();
    if (!KEY.test(key)) {
      throw new ApiError("VALIDATION_FAILED", {
        detail: "Idempotency-Key must be 1-255 printable ASCII characters.",
        errors: [{ path: "header.idempotency-key", message: "invalid" }],
      });
    }
    const db = c.get("db");
    const principalKey = credentialKey(c.get("principal"));
    const requestHash = await sha256Hex(
      `${c.req.method} ${new URL(c.req.url).pathname}\n${await c.req.text()}`,
    );

    const [lock] = await db
      .execute<{ locked: boolean }>(
        sql`select pg_try_advisory_xact_lock(hashtextextended(${`${db.tenantId}|${principalKey}|${key}`}, 0)) as locked`,
      )
      .then((r) => r.rows);
    if (!lock?.locked) {
      throw new ApiError("IDEMPOTENCY_IN_FLIGHT", {
        detail: "A request with this Idempotency-Key is in progress.",
      });
    }

    const [stored] = await db
      .select()
      .from(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.principalKey, principalKey),
          eq(idempotencyKeys.key, key),
          gt(idempotencyKeys.expiresAt, sql`now()`),
        ),
      );
    if (stored) {
      if (stored.requestHash !== requestHash) {
        throw new ApiError("IDEMPOTENCY_KEY_REUSED", {
          detail: "This Idempotency-Key was already used with a different request.",
        });
      }
      if (stored.statusCode !== null) {
        c.res = new Response(stored.responseBody, {
          status: stored.statusCode,
          headers: { ...stored.responseHeaders, "idempotent-replayed": "true" },
        });
        return;
      }
    }

    await next();
    if (c.res.status >= 400) return;

    const body = await c.res.clone().text();
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = c.res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const row = {
      tenantId: db.tenantId,
      principalKey,
      key,
      requestHash,
      statusCode: c.res.status,
      responseHeaders: headers,
      responseBody: body,
      expiresAt: sql`now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`,
    };
    // An expired row for the same key is replaced rather than conflicting forever.
    await db
      .insert(idempotencyKeys)
      .values(row)
      .onConflictDoUpdate({
        target: [idempotencyKeys.tenantId, idempotencyKeys.principalKey, idempotencyKeys.key],
        set: { ...row, updatedAt: sql`now()` },
      });
  });
}
