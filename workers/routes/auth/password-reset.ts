import { createRoute, z } from "@hono/zod-openapi";
import type { Client } from "@neondatabase/serverless";
import { connect } from "../../../db/client";
import { findLoginCandidate } from "../../../db/privileged";
import { passwordResets } from "../../../db/schema";
import { withTenant } from "../../../db/tenant";
import type { App, Context } from "../../app";
import { mintOpaqueToken } from "../../auth/sessions";
import { audit } from "../../lib/audit";
import { requestConnection } from "../../lib/connection";
import { emailSenderFor } from "../../lib/email";
import { problemResponses } from "../../lib/problem-responses";
import { applyRateLimit, checkRateLimit, clientIp } from "../../lib/rate-limit";
import { email, slug } from "../../lib/schemas";
import { expireOpenResets } from "../users/credentials";

/** Reset links last an hour: long enough to reach the inbox, short enough to limit a leaked mailbox. */
export const PASSWORD_RESET_TTL_SECONDS = 3600;

const body = z
  .object({
    tenant: slug.openapi({ description: "The tenant's slug, as at sign-in." }),
    email,
  })
  .strict()
  .openapi("PasswordResetRequest");

const route = createRoute({
  operationId: "requestPasswordReset",
  tags: ["auth"],
  method: "post",
  path: "/v1/auth/password-reset",
  summary: "Email a password-reset token, if the account exists",
  description:
    "Public. Always 202, whether or not the tenant and address name an active account, so the answer " +
    "cannot be used to find out who has an account; the token is made and sent after the answer, so its " +
    "timing does not tell either. If one does, a one-time token valid for 1 hour is emailed (earlier unused tokens stop working); exchange it at /v1/auth/password-reset/confirm. " +
    "Rate-limited per client IP and per account name.",
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    202: { description: "Accepted; an email follows if the account exists." },
    ...problemResponses(400, 413, 429, 500),
  },
});

function resetText(token: string, expiresAt: Date): string {
  return [
    "Someone asked to reset the password of your Meridian account.",
    "",
    `Reset token: ${token}`,
    "",
    `Set a new password with POST /v1/auth/password-reset/confirm before ${expiresAt.toISOString()}.`,
    "If you did not ask for this, ignore this email: your password stays as it is.",
  ].join("\n");
}

/**
 * Makes the reset token, stores it and emails it. Runs after the response, on a connection of
 * its own: the request's connection is closed once the response is sent. It cannot answer the
 * client any more, so a failure is logged, not thrown.
 */
async function sendResetEmail(
  c: Context,
  target: { tenantId: string; userId: string; email: string },
): Promise<void> {
  const config = c.get("config");
  const logger = c.get("logger");
  let client: Client | undefined;
  try {
    client = await connect(config);
    const minted = await mintOpaqueToken("mrp");
    const expiresAt = new Date(Date.now() + PASSWORD_RESET_TTL_SECONDS * 1000);
    await withTenant(client, target.tenantId, async (db) => {
      // audit() writes through the context's db; the request's transaction is long gone.
      c.set("db", db);
      await expireOpenResets(db, target.userId);
      const [row] = await db
        .insert(passwordResets)
        .values({ tenantId: db.tenantId, userId: target.userId, tokenHash: minted.hash, expiresAt })
        .returning({ id: passwordResets.id });
      if (!row) throw new Error("password reset insert returned no row");
      await audit(c, {
        action: "auth.password_reset_request",
        resourceType: "user",
        resourceId: target.userId,
        // Not the user: anyone who knows the address can ask.
        actor: { type: "system", id: null },
      });
    });
    // After the commit, so the emailed token already works when it arrives.
    await emailSenderFor(config, logger).send({
      to: target.email,
      subject: "Reset your Meridian password",
      text: resetText(minted.token, expiresAt),
    });
  } catch (error) {
    logger.error("password reset email not sent", {
      tenantId: target.tenantId,
      userId: target.userId,
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
  } finally {
    await client?.end().catch(() => undefined);
  }
}

export function registerRequestPasswordReset(app: App) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const config = c.get("config");
    const logger = c.get("logger");
    // Its own counter per account ("reset:" prefix): reset requests must not use up, or be used to
    // exhaust, the owner's sign-in attempts.
    const [perIp, perAccount] = await Promise.all([
      checkRateLimit(config, logger, "ip", clientIp(c)),
      checkRateLimit(config, logger, "login", `reset:${input.tenant}:${input.email}`),
    ]);
    applyRateLimit(c, "ip", perIp);
    applyRateLimit(c, "login", perAccount);

    const candidate = await findLoginCandidate(await requestConnection(c), input.tenant, input.email);
    // Every request has done the same work up to here. What only a known account needs happens
    // after the response, so the response time does not tell whether the account exists.
    if (candidate && candidate.status === "active" && candidate.tenantStatus === "active") {
      c.executionCtx.waitUntil(
        sendResetEmail(c, { tenantId: candidate.tenantId, userId: candidate.userId, email: input.email }),
      );
    }
    return c.body(null, 202);
  });
}
