import { z } from "@hono/zod-openapi";
import { fromBase64Url, toBase64Url } from "./bytes";
import { ApiError } from "./errors";
import { isUuid } from "./ids";

/** Query parameters every list accepts. */
export const pageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: "Page size (1-100).", example: 20 }),
  cursor: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: "`nextCursor` from the previous page; omit for the first page." }),
});

/** Wraps an item schema into the list envelope. */
export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({
      data: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .openapi({ description: "Pass as `cursor` to get the next page; null on the last page." }),
    })
    .openapi(name);
}

/**
 * The id a cursor points after. Lists run newest first by id (UUIDv7 ids are time-ordered),
 * a total order, so a page never repeats or skips a row when rows are added meanwhile.
 *
 * @throws ApiError VALIDATION_FAILED for a cursor this API did not issue.
 */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const id = new TextDecoder().decode(fromBase64Url(cursor));
    if (isUuid(id)) return id;
  } catch {
    // fall through
  }
  throw new ApiError("VALIDATION_FAILED", {
    detail: "The cursor is not valid.",
    errors: [{ path: "cursor", message: "not a cursor issued by this API" }],
  });
}

/**
 * Cuts a page out of `limit + 1` fetched rows and makes the next cursor.
 *
 * @example
 * const rows = await db.select().from(agents).where(...).orderBy(desc(agents.id)).limit(limit + 1);
 * const { items, nextCursor } = toPage(rows, limit);
 */
export function toPage<R extends { id: string }>(
  rows: R[],
  limit: number,
): { items: R[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > limit && last ? toBase64Url(new TextEncoder().encode(last.id)) : null;
  return { items, nextCursor };
}
