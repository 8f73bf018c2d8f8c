import { and, not } from "drizzle-orm";
import { z } from "zod";
import { mcpFiles } from "../../../../db/schema";
import { defineTool } from "../../../server/types";
import { MAX_LIST_ENTRIES } from "../limits";
import { baseName, normalizePath } from "../paths";
import { pathField } from "../schemas";
import { below, byPath, deeperThanChildren, entryColumns, iso, ofTenant, requireDirectory } from "../store";

export const listDirectory = defineTool({
  name: "list_directory",
  title: "List directory",
  description:
    "Lists the entries directly inside a directory of the tenant's private filesystem ('/' is the root): " +
    `name, kind (file or directory), size in bytes, last update. At most ${MAX_LIST_ENTRIES} entries, ` +
    "sorted by name; truncated says whether there were more.",
  input: z.strictObject({ path: pathField }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run({ path: raw }, { db }) {
    const path = normalizePath(raw);
    await requireDirectory(db, path);
    const rows = await db
      .select(entryColumns)
      .from(mcpFiles)
      .where(and(ofTenant(db), below(path), not(deeperThanChildren(path))))
      .orderBy(byPath)
      .limit(MAX_LIST_ENTRIES + 1);
    return {
      path,
      entries: rows.slice(0, MAX_LIST_ENTRIES).map((r) => ({
        name: baseName(r.path),
        kind: r.kind,
        sizeBytes: r.sizeBytes,
        updatedAt: iso(r.updatedAt),
      })),
      truncated: rows.length > MAX_LIST_ENTRIES,
    };
  },
});
