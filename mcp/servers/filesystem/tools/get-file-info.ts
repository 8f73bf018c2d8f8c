import { and, not, sql } from "drizzle-orm";
import { z } from "zod";
import { mcpFiles } from "../../../../db/schema";
import { defineTool, ToolError } from "../../../server/types";
import { baseName, normalizePath, ROOT } from "../paths";
import { pathField } from "../schemas";
import { below, deeperThanChildren, findEntry, iso, ofTenant } from "../store";

export const getFileInfo = defineTool({
  name: "get_file_info",
  title: "Get file info",
  description:
    "Describes a file or directory of the tenant's private filesystem without reading it: kind, " +
    "size in bytes, creation and last update time, and for a directory how many entries it holds " +
    "directly. The root '/' always exists and has no timestamps.",
  input: z.strictObject({ path: pathField }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run({ path: raw }, { db }) {
    const path = normalizePath(raw);
    const entry = path === ROOT ? undefined : await findEntry(db, path);
    if (path !== ROOT && !entry) throw new ToolError(`${path} does not exist.`, "not_found");
    const kind = entry?.kind ?? "directory";
    let children: number | undefined;
    if (kind === "directory") {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(mcpFiles)
        .where(and(ofTenant(db), below(path), not(deeperThanChildren(path))));
      children = Number(row?.n ?? 0);
    }
    return {
      path,
      name: baseName(path),
      kind,
      sizeBytes: entry?.sizeBytes ?? 0,
      createdAt: iso(entry?.createdAt),
      updatedAt: iso(entry?.updatedAt),
      ...(children === undefined ? {} : { children }),
    };
  },
});
