import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { mcpFiles } from "../../../../db/schema";
import { defineTool, ToolError } from "../../../server/types";
import { MAX_FILE_BYTES } from "../limits";
import { normalizePath, ROOT, utf8Length } from "../paths";
import { pathField } from "../schemas";
import {
  assertMayWrite,
  assertQuota,
  findEntry,
  insertDirectories,
  iso,
  lockTree,
  missingAncestors,
  ofTenant,
} from "../store";

/**
 * PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 form: refused with a
 * reason instead of failing in the driver.
 *
 * @throws ToolError `invalid_content`
 */
function checkContent(content: string): void {
  if (content.includes("\u0000")) {
    throw new ToolError("Content contains a NUL character; only text files are stored.", "invalid_content");
  }
  if (/\p{Cs}/u.test(content)) {
    throw new ToolError("Content is not valid Unicode (lone surrogate).", "invalid_content");
  }
}

export const writeFile = defineTool({
  name: "write_file",
  title: "Write file",
  description:
    "Creates a UTF-8 text file in the tenant's private filesystem, or replaces its whole content. " +
    "The parent directory must exist unless createIfMissingParents is true. " +
    `Content is at most ${MAX_FILE_BYTES} bytes (too_large); the tenant's quotas apply (quota_exceeded).`,
  input: z.strictObject({
    path: pathField,
    content: z.string().describe(`The whole new content, UTF-8 text, at most ${MAX_FILE_BYTES} bytes.`),
    createIfMissingParents: z
      .boolean()
      .optional()
      .describe("Create missing parent directories (like mkdir -p) instead of failing. Default false."),
  }),
  annotations: { destructiveHint: true, idempotentHint: true },
  async run({ path: raw, content, createIfMissingParents }, { db, principal, signal }) {
    assertMayWrite(principal);
    const path = normalizePath(raw);
    if (path === ROOT) throw new ToolError("/ is a directory.", "is_a_directory");
    checkContent(content);
    const sizeBytes = utf8Length(content);
    if (sizeBytes > MAX_FILE_BYTES) {
      throw new ToolError(`Content is ${sizeBytes} bytes; files are at most ${MAX_FILE_BYTES}.`, "too_large");
    }

    await lockTree(db);
    const existing = await findEntry(db, path);
    if (existing?.kind === "directory") throw new ToolError(`${path} is a directory.`, "is_a_directory");
    const missing = existing ? [] : await missingAncestors(db, path);
    if (missing.length > 0 && !createIfMissingParents) {
      throw new ToolError(
        `Directory ${missing[0]} does not exist; create it or pass createIfMissingParents.`,
        "parent_not_found",
      );
    }
    // Every check comes before the first write: a refusal leaves nothing half-done behind,
    // whatever the caller does with the transaction. A call that timed out while it waited for
    // the lock must not write after the framework has rolled its savepoint back.
    await assertQuota(db, {
      entries: (existing ? 0 : 1) + missing.length,
      bytes: sizeBytes - (existing?.sizeBytes ?? 0),
    });
    signal.throwIfAborted();
    await insertDirectories(db, missing);
    const [row] = existing
      ? await db
          .update(mcpFiles)
          .set({ content, sizeBytes })
          .where(and(ofTenant(db), eq(mcpFiles.path, path)))
          .returning({ updatedAt: mcpFiles.updatedAt })
      : await db
          .insert(mcpFiles)
          .values({ tenantId: db.tenantId, path, kind: "file", content, sizeBytes })
          .returning({ updatedAt: mcpFiles.updatedAt });
    return {
      path,
      sizeBytes,
      created: !existing,
      createdDirectories: missing,
      updatedAt: iso(row?.updatedAt),
    };
  },
});
