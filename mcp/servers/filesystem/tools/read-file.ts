import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { mcpFiles } from "../../../../db/schema";
import { defineTool, ToolError } from "../../../server/types";
import { normalizePath, ROOT } from "../paths";
import { pathField } from "../schemas";
import { iso, ofTenant } from "../store";

export const readFile = defineTool({
  name: "read_file",
  title: "Read file",
  description:
    "Reads a UTF-8 text file from the tenant's private filesystem and returns its content, " +
    "size in bytes and last update time. Fails with not_found or is_a_directory.",
  input: z.strictObject({ path: pathField }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run({ path: raw }, { db }) {
    const path = normalizePath(raw);
    if (path === ROOT) throw new ToolError("/ is a directory; use list_directory.", "is_a_directory");
    const [row] = await db
      .select({
        kind: mcpFiles.kind,
        content: mcpFiles.content,
        sizeBytes: mcpFiles.sizeBytes,
        updatedAt: mcpFiles.updatedAt,
      })
      .from(mcpFiles)
      .where(and(ofTenant(db), eq(mcpFiles.path, path)));
    if (!row) throw new ToolError(`File ${path} does not exist.`, "not_found");
    if (row.kind !== "file")
      throw new ToolError(`${path} is a directory; use list_directory.`, "is_a_directory");
    return { path, content: row.content ?? "", sizeBytes: row.sizeBytes, updatedAt: iso(row.updatedAt) };
  },
});
