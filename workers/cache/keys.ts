import { isUuid } from "../lib/ids";

/**
 * The caches, as metrics label them. Each is one kind of hot read with its own TTL and its own
 * invalidation (see docs/architecture.md, "Cache").
 */
export type CacheName = "agent" | "mcp_discovery" | "collection";

/**
 * What one generation covers: an entity of a tenant (`id`), or a tenant's whole cache of a kind
 * (no `id`: the MCP discovery cache, whose entries span all of a tenant's servers). A write to
 * anything in the scope gives it a new generation, which retires every entry stored under it.
 */
export interface CacheScope {
  cache: CacheName;
  /** Always the caller's tenant as the principal names it (via `db.tenantId`), never request input. */
  tenantId: string;
  id?: string;
}

/** Bumped when the shape of a stored value changes, so an old deployment's entries are never read. */
const PREFIX = "cache:v1";

/** Ids and variants become key segments: nothing that could carry a `:` into another key. */
const SEGMENT = /^[A-Za-z0-9_.-]{1,200}$/;

function segment(value: string, what: string): string {
  if (!SEGMENT.test(value)) throw new Error(`cache key: ${what} "${value}" is not a plain segment`);
  return value;
}

/**
 * `cache:v1:<tenantId>:<cache>[:<id>]`: the tenant comes first, so two tenants' keys never meet,
 * whatever ids or names they use.
 *
 * @throws Error when the tenant id is not a UUID or a segment holds anything but `[A-Za-z0-9_.-]`.
 * @example
 * scopeKey({ cache: "agent", tenantId, id: agentId }); // "cache:v1:<tenant>:agent:<agent>"
 */
export function scopeKey(scope: CacheScope): string {
  if (!isUuid(scope.tenantId)) throw new Error(`cache key: tenant id "${scope.tenantId}" is not a UUID`);
  const base = `${PREFIX}:${scope.tenantId.toLowerCase()}:${scope.cache}`;
  return scope.id === undefined ? base : `${base}:${segment(scope.id.toLowerCase(), "id")}`;
}

/** The scope's generation: a random token, replaced by every write to the scope. */
export function generationKey(scope: CacheScope): string {
  return `${scopeKey(scope)}:gen`;
}

/**
 * One stored value of the scope: the entity itself, or a `variant` of it (`version:3` of an agent,
 * `server:<id>` within a tenant's MCP cache), segments joined by `:`.
 *
 * @throws Error as `scopeKey`, or when a variant segment is not plain (or the variant is `gen`).
 */
export function entryKey(scope: CacheScope, variant?: string): string {
  if (variant === undefined) return scopeKey(scope);
  if (variant === "gen") throw new Error('cache key: "gen" is the generation, not a variant');
  const parts = variant.split(":").map((part) => segment(part.toLowerCase(), "variant"));
  return `${scopeKey(scope)}:${parts.join(":")}`;
}
