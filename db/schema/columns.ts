import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  check,
  customType,
  pgPolicy,
  pgRole,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { newId } from "../../workers/lib/ids";

/*
 * The three database roles are created by the bootstrap script before any migration runs
 * (a migration runs as meridian_owner, which cannot create roles). `.existing()` keeps
 * drizzle-kit from emitting CREATE ROLE for them.
 */

/** Owns every table and the SECURITY DEFINER functions; runs migrations. The Worker never logs in as it. */
export const ownerRole = pgRole("meridian_owner").existing();
/** NOLOGIN role that tenant-scoped transactions switch to (`SET LOCAL ROLE`); all grants go here. */
export const tenantRole = pgRole("meridian_tenant").existing();
/** The Worker's login role: NOINHERIT member of meridian_tenant, holds nothing but EXECUTE on the privileged functions. */
export const appRole = pgRole("meridian_app").existing();

/** The transaction-local setting `withTenant()` writes and every tenant policy reads. */
export const TENANT_SETTING = "app.tenant_id";

/*
 * `current_setting(..., true)` returns null when the setting was never made in the session
 * and '' once a transaction that set it locally has ended, so both map to null and the
 * policy compares against null: no rows, not an error.
 */
const currentTenant = `nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`;

/**
 * The two policies every tenant-owned table carries: tenant_isolation confines
 * meridian_tenant to the rows of `app.tenant_id`, and owner_maintenance lets the table owner
 * (migrations, the privileged functions) through, since FORCE ROW LEVEL SECURITY applies the
 * policies to the owner too.
 *
 * @example
 * (t) => [...tenantPolicies()]
 */
export function tenantPolicies(column = "tenant_id") {
  const isOwnTenant = sql.raw(`${column} = ${currentTenant}`);
  return [
    pgPolicy("tenant_isolation", { for: "all", to: tenantRole, using: isOwnTenant, withCheck: isOwnTenant }),
    pgPolicy("owner_maintenance", { for: "all", to: ownerRole, using: sql`true`, withCheck: sql`true` }),
  ];
}

/** Primary key: a UUIDv7 minted in the Worker, so id order is creation order and serves as the list cursor. */
export const id = {
  id: uuid("id")
    .primaryKey()
    .$defaultFn(() => newId()),
};

/** `updated_at` is set from the database clock on every drizzle update, so rows never carry Worker clock skew. */
export const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => sql`now()`),
};

export const createdAt = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
};

/** Soft delete: rows stay restorable until `meridian_purge_soft_deleted` removes them. */
export const softDelete = {
  deletedAt: timestamp("deleted_at", { withTimezone: true }),
};

/**
 * `unique (tenant_id, id)`: the target of composite foreign keys (a child can then only point at
 * a parent of its own tenant) and, because ids are time-ordered, the index behind every
 * `(id desc)` cursor list of the table. A unique constraint rather than a unique index because
 * drizzle-kit adds foreign keys before it creates indexes.
 *
 * @example
 * (t) => [tenantKey("agents", t)]
 */
export function tenantKey(table: string, columns: { tenantId: AnyPgColumn; id: AnyPgColumn }) {
  return unique(`${table}_tenant_id_id_key`).on(columns.tenantId, columns.id);
}

/**
 * A CHECK that `column` holds one of `values`; the list is inlined because CHECK cannot take
 * parameters. Text plus CHECK instead of a pg enum: adding a value is then an ordinary
 * migration that can run in a transaction.
 *
 * @example
 * oneOf("agents_status_check", t.status, ["active", "archived"])
 */
export function oneOf(name: string, column: AnyPgColumn, values: readonly string[]) {
  const list = values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ");
  return check(name, sql`${column} in (${sql.raw(list)})`);
}

/**
 * A CHECK that `column` is lower-case, so equality lookups need no `lower()` and no citext.
 *
 * @example
 * lowerCase("users_email_lower_check", t.email)
 */
export function lowerCase(name: string, column: AnyPgColumn) {
  return check(name, sql`${column} = lower(${column})`);
}

export const ROLES = ["owner", "admin", "member", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** `bytea` as bytes: ciphertext, IVs and wrapped keys are binary and never shown. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return "bytea";
  },
});
