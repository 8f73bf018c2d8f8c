import { and, eq, or } from "drizzle-orm";
import { z } from "zod";
import { mcpFiles } from "../../../../db/schema";
import { defineTool, ToolError } from "../../../server/types";
import { normalizePath, ROOT } from "../paths";
import { pathField } from "../schemas";
import { assertMayWrite, below, findEntry, lockTree, ofTenant } from "../store";

export const deleteEntry = defineTool({
  name: "delete",
  title: "Delete file or directory",
  description:
    "Deletes a file or a directory from the tenant's private filesystem. A directory that is not " +
    "empty needs recursive: true, which deletes everything below it (directory_not_empty otherwise). " +
    "The root / cannot be deleted.",
  input: z.strictObject({
    path: pathField,
    recursive: z
      .boolean()
      .optional()
      .describe("Delete a non-empty directory with everything below it. Default false."),
  }),
  annotations: { destructiveHint: true, idempotentHint: false },
  async run({ path: raw, recursive }, { db, principal, signal }) {
    assertMayWrite(principal);
    const path = normalizePath(raw);
    if (path === ROOT) throw new ToolError("The root / cannot be deleted.", "root_protected");
    await lockTree(db);
    const entry = await findEntry(db, path);
    if (!entry) throw new ToolError(`${path} does not exist.`, "not_found");
    if (entry.kind === "directory" && !recursive) {
      const [child] = await db
        .select({ path: mcpFiles.path })
        .from(mcpFiles)
        .where(and(ofTenant(db), below(path)))
        .limit(1);
      if (child) {
        throw new ToolError(
          `Directory ${path} is not empty; pass recursive to delete it all.`,
          "directory_not_empty",
        );
      }
    }
    const target =
      entry.kind === "directory" ? or(eq(mcpFiles.path, path), below(path)) : eq(mcpFiles.path, path);
    signal.throwIfAborted();
    const deleted = await db
      .delete(mcpFiles)
      .where(and(ofTenant(db), target))
      .returning({ sizeBytes: mcpFiles.sizeBytes });
    return {
      path,
      kind: entry.kind,
      deletedEntries: deleted.length,
      freedBytes: deleted.reduce((sum, r) => sum + r.sizeBytes, 0),
    };
  },
});
