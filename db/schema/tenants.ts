import { relations, sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  check,
  foreignKey,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import {
  bytea,
  createdAt,
  id,
  lowerCase,
  oneOf,
  ROLES,
  softDelete,
  tenantKey,
  tenantPolicies,
  timestamps,
} from "./columns";

export const TENANT_STATUSES = ["active", "suspended"] as const;
export const USER_STATUSES = ["active", "disabled", "invited"] as const;
export const ACTOR_TYPES = ["user", "api_key", "platform_admin", "system"] as const;

/** Per-tenant settings the API validates; the column is jsonb so new settings need no migration. */
export interface TenantSettings {
  allowedModels?: string[];
  defaultLimits?: Record<string, number>;
  /** Receives the tenant's signed billing webhooks (workers/quotas/thresholds.ts, workers/usage/rollup-webhooks.ts). */
  billingWebhookUrl?: string;
  named?: Record<string, unknown>;
}

/** Ceilings and quotas the platform admin sets (workers/lib/limits.ts: `tenantLimitsSchema`). */
export type TenantLimits = Record<string, number>;

export const tenants = pgTable(
  "tenants",
  {
    ...id,
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: TENANT_STATUSES }).notNull().default("active"),
    settings: jsonb("settings").$type<TenantSettings>().notNull().default({}),
    limits: jsonb("limits").$type<TenantLimits>().notNull().default({}),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    // Unique across deleted tenants as well: a slug is not reissued until the purge removes
    // the old tenant, so a stale login form or API client can never reach a new owner.
    unique("tenants_slug_key").on(t.slug),
    check("tenants_slug_check", sql`${t.slug} ~ '^[a-z0-9][a-z0-9-]{0,62}$'`),
    oneOf("tenants_status_check", t.status, TENANT_STATUSES),
    index("tenants_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    ...tenantPolicies("id"),
  ],
);

/**
 * The owning tenant; deleting the tenant deletes the row (audit_logs is the one exception, see
 * docs/data-model.md). It lives here rather than in columns.ts because it references `tenants`,
 * and columns.ts importing this file would make a module cycle that breaks whichever is loaded first.
 */
export const tenantId = {
  tenantId: uuid("tenant_id")
    .notNull()
    .references((): AnyPgColumn => tenants.id, { onDelete: "cascade" }),
};

export const users = pgTable(
  "users",
  {
    ...id,
    ...tenantId,
    email: text("email").notNull(),
    name: text("name"),
    /** A self-describing hash string (algorithm, parameters, salt, digest), e.g. `$pbkdf2-sha256$i=600000$...`. */
    passwordHash: text("password_hash"),
    role: text("role", { enum: ROLES }).notNull().default("member"),
    status: text("status", { enum: USER_STATUSES }).notNull().default("active"),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("users", t),
    // Partial so a deleted user's address can be invited again; the login function relies on
    // this index returning at most one live user.
    uniqueIndex("users_tenant_id_email_key").on(t.tenantId, t.email).where(sql`${t.deletedAt} is null`),
    lowerCase("users_email_lower_check", t.email),
    oneOf("users_role_check", t.role, ROLES),
    oneOf("users_status_check", t.status, USER_STATUSES),
    index("users_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    ...tenantPolicies(),
  ],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    ...id,
    ...tenantId,
    name: text("name").notNull(),
    /** The visible start of the key (e.g. `mrdn_3f9a`), shown in lists so users can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** Hex SHA-256 of the whole key; the key itself is shown once and never stored. */
    keyHash: text("key_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull().default("member"),
    // No foreign keys on the two history pointers below: a key must outlive the purge of the
    // user who made it, and a composite key's ON DELETE SET NULL would null tenant_id too.
    createdByUserId: uuid("created_by_user_id"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    rotatedFromId: uuid("rotated_from_id"),
    /** The key's own rate limit; null uses the tenant's `requestsPerMinute` (workers/lib/limits.ts). */
    requestsPerMinute: integer("requests_per_minute"),
    ...timestamps,
  },
  (t) => [
    tenantKey("api_keys", t),
    unique("api_keys_key_hash_key").on(t.keyHash),
    oneOf("api_keys_role_check", t.role, ROLES),
    check("api_keys_requests_per_minute_check", sql`${t.requestsPerMinute} > 0`),
    ...tenantPolicies(),
  ],
);

export const sessions = pgTable(
  "sessions",
  {
    ...id,
    ...tenantId,
    userId: uuid("user_id").notNull(),
    /** Hex SHA-256 of the refresh token. */
    refreshHash: text("refresh_hash").notNull(),
    /**
     * Hash of the refresh token this session rotated away from. Presenting it again means the
     * token was copied: the refresh route then ends every session of the user.
     */
    previousRefreshHash: text("previous_refresh_hash"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    userAgent: text("user_agent"),
    ip: inet("ip"),
    ...timestamps,
  },
  (t) => [
    tenantKey("sessions", t),
    unique("sessions_refresh_hash_key").on(t.refreshHash),
    unique("sessions_previous_refresh_hash_key").on(t.previousRefreshHash),
    // "Sign out everywhere" revokes every session of one user.
    index("sessions_tenant_id_user_id_idx").on(t.tenantId, t.userId),
    index("sessions_expires_at_idx").on(t.expiresAt),
    foreignKey({
      name: "sessions_user_fk",
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const invitations = pgTable(
  "invitations",
  {
    ...id,
    ...tenantId,
    email: text("email").notNull(),
    role: text("role", { enum: ROLES }).notNull().default("member"),
    /** Hex SHA-256 of the invitation token. */
    tokenHash: text("token_hash").notNull(),
    invitedByUserId: uuid("invited_by_user_id"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("invitations", t),
    unique("invitations_token_hash_key").on(t.tokenHash),
    index("invitations_tenant_id_email_idx").on(t.tenantId, t.email),
    index("invitations_expires_at_idx").on(t.expiresAt),
    lowerCase("invitations_email_lower_check", t.email),
    oneOf("invitations_role_check", t.role, ROLES),
    ...tenantPolicies(),
  ],
);

export const passwordResets = pgTable(
  "password_resets",
  {
    ...id,
    ...tenantId,
    userId: uuid("user_id").notNull(),
    /** Hex SHA-256 of the reset token. */
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("password_resets", t),
    unique("password_resets_token_hash_key").on(t.tokenHash),
    index("password_resets_tenant_id_user_id_idx").on(t.tenantId, t.userId),
    index("password_resets_expires_at_idx").on(t.expiresAt),
    foreignKey({
      name: "password_resets_user_fk",
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/**
 * Envelope-encrypted tenant secrets (MCP server credentials, provider keys): the value is
 * encrypted with a fresh data key, and the data key is wrapped by the master key `key_id`
 * names, so rotating the master key rewraps `wrapped_dek` without touching `ciphertext`.
 */
export const tenantSecrets = pgTable(
  "tenant_secrets",
  {
    ...id,
    ...tenantId,
    name: text("name").notNull(),
    keyId: text("key_id").notNull(),
    iv: bytea("iv").notNull(),
    ciphertext: bytea("ciphertext").notNull(),
    wrappedDek: bytea("wrapped_dek").notNull(),
    ...timestamps,
  },
  (t) => [
    tenantKey("tenant_secrets", t),
    unique("tenant_secrets_tenant_id_name_key").on(t.tenantId, t.name),
    ...tenantPolicies(),
  ],
);

/**
 * Stored responses for `Idempotency-Key` requests. `status_code` is null while the first
 * request is still running, which is how a concurrent retry learns to answer 409.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    ...id,
    ...tenantId,
    /** Who sent the key (`user:<id>` or `api_key:<id>`): two principals may pick the same key. */
    principalKey: text("principal_key").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    statusCode: smallint("status_code"),
    responseHeaders: jsonb("response_headers").$type<Record<string, string>>(),
    responseBody: text("response_body"),
    ...timestamps,
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    tenantKey("idempotency_keys", t),
    unique("idempotency_keys_tenant_id_principal_key_key_key").on(t.tenantId, t.principalKey, t.key),
    index("idempotency_keys_expires_at_idx").on(t.expiresAt),
    ...tenantPolicies(),
  ],
);

/**
 * Append-only audit trail. Deliberately no foreign key to tenants: the rows outlive the
 * tenant (anonymised) for the retention period, see docs/data-model.md. meridian_tenant may
 * only INSERT and SELECT here (grants in the RLS migration).
 */
export const auditLogs = pgTable(
  "audit_logs",
  {
    ...id,
    tenantId: uuid("tenant_id").notNull(),
    actorType: text("actor_type", { enum: ACTOR_TYPES }).notNull(),
    actorId: text("actor_id"),
    /** `<resource>.<verb>`, e.g. `agent.create`. */
    action: text("action").notNull(),
    resourceType: text("resource_type"),
    resourceId: text("resource_id"),
    requestId: text("request_id"),
    ip: inet("ip"),
    changes: jsonb("changes"),
    ...createdAt,
  },
  (t) => [
    index("audit_logs_tenant_id_id_idx").on(t.tenantId, t.id),
    index("audit_logs_tenant_id_resource_idx").on(t.tenantId, t.resourceType, t.resourceId, t.id),
    index("audit_logs_created_at_idx").on(t.createdAt),
    oneOf("audit_logs_actor_type_check", t.actorType, ACTOR_TYPES),
    ...tenantPolicies(),
  ],
);

export const tenantsRelations = relations(tenants, ({ many }) => ({
  users: many(users),
  apiKeys: many(apiKeys),
  secrets: many(tenantSecrets),
}));

export const usersRelations = relations(users, ({ one, many }) => ({
  tenant: one(tenants, { fields: [users.tenantId], references: [tenants.id] }),
  sessions: many(sessions),
  passwordResets: many(passwordResets),
}));

export const apiKeysRelations = relations(apiKeys, ({ one }) => ({
  tenant: one(tenants, { fields: [apiKeys.tenantId], references: [tenants.id] }),
}));

export const sessionsRelations = relations(sessions, ({ one }) => ({
  user: one(users, { fields: [sessions.userId], references: [users.id] }),
}));

export const invitationsRelations = relations(invitations, ({ one }) => ({
  tenant: one(tenants, { fields: [invitations.tenantId], references: [tenants.id] }),
}));

export const passwordResetsRelations = relations(passwordResets, ({ one }) => ({
  user: one(users, { fields: [passwordResets.userId], references: [users.id] }),
}));

export const tenantSecretsRelations = relations(tenantSecrets, ({ one }) => ({
  tenant: one(tenants, { fields: [tenantSecrets.tenantId], references: [tenants.id] }),
}));
