/**
 * A database row stored as JSON, back as the row: its timestamp columns (ISO strings in JSON)
 * become Dates again. Null when the stored value is not a row of `tenantId`, so a value that
 * somehow reached another tenant's key is a miss, never served.
 *
 * @example
 * const agent = reviveRow<Agent>(stored, db.tenantId, ["createdAt", "updatedAt", "deletedAt"]);
 */
export function reviveRow<T>(
  stored: unknown,
  tenantId: string,
  dates: readonly (keyof T & string)[],
): T | null {
  if (!stored || typeof stored !== "object" || Array.isArray(stored)) return null;
  const row: Record<string, unknown> = { ...(stored as Record<string, unknown>) };
  if (typeof row.id !== "string" || String(row.tenantId).toLowerCase() !== tenantId.toLowerCase())
    return null;
  for (const field of dates) {
    const value = row[field];
    if (value === null || value === undefined) continue;
    const date = typeof value === "string" ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) return null;
    row[field] = date;
  }
  return row as T;
}
