import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { findLoginCandidate } from "../../../db/privileged";
import { users } from "../../../db/schema";
import type { App } from "../../app";
import { issueSession } from "../../auth/issue-session";
import { DECOY_HASH, hashPassword, needsRehash, verifyPassword } from "../../auth/passwords";
import { role as roleSchema } from "../../auth/roles";
import { audit } from "../../lib/audit";
import { requestConnection } from "../../lib/connection";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { applyRateLimit, checkRateLimit, clientIp } from "../../lib/rate-limit";
import { email, slug } from "../../lib/schemas";
import { runInTenant } from "../../middleware/tenant-db";
import { tokenPairSchema } from "./schemas";

const body = z
  .object({
    tenant: slug.openapi({
      description: "The tenant's slug: an email may belong to users of several tenants.",
    }),
    email,
    password: z.string().min(1).max(256),
  })
  .strict()
  .openapi("LoginRequest");

const route = createRoute({
  operationId: "login",
  tags: ["auth"],
  method: "post",
  path: "/v1/auth/login",
  summary: "Exchange email and password for an access token and a refresh token",
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    200: { description: "Signed in.", content: { "application/json": { schema: tokenPairSchema } } },
    ...problemResponses(400, 401, 413, 429, 500),
  },
});

export function registerLogin(app: App) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const config = c.get("config");
    const logger = c.get("logger");
    const ip = clientIp(c);
    const [perIp, perAccount] = await Promise.all([
      checkRateLimit(config, logger, "ip", ip),
      checkRateLimit(config, logger, "login", `${input.tenant}:${input.email}`),
    ]);
    applyRateLimit(c, "ip", perIp);
    applyRateLimit(c, "login", perAccount);

    const candidate = await findLoginCandidate(await requestConnection(c), input.tenant, input.email);
    // Verify against a decoy when the account is unknown, so timing does not reveal which
    // emails exist; every failure gets the same answer.
    const ok = await verifyPassword(
      input.password,
      candidate?.passwordHash ?? DECOY_HASH,
      config.PASSWORD_PEPPER,
    );
    if (!candidate || !ok || candidate.status !== "active" || candidate.tenantStatus !== "active") {
      throw new ApiError("UNAUTHENTICATED", { detail: "Unknown tenant, email or password." });
    }
    const role = roleSchema.parse(candidate.role);
    const pair = await runInTenant(c, candidate.tenantId, async (db) => {
      const rehash = needsRehash(candidate.passwordHash)
        ? { passwordHash: await hashPassword(input.password, config.PASSWORD_PEPPER) }
        : {};
      await db
        .update(users)
        .set({ lastLoginAt: new Date(), ...rehash })
        .where(eq(users.id, candidate.userId));
      await audit(c, {
        action: "auth.login",
        resourceType: "user",
        resourceId: candidate.userId,
        actor: { type: "user", id: candidate.userId },
      });
      return issueSession(c, db, { userId: candidate.userId, role });
    });
    return c.json(pair, 200);
  });
}
