import { z } from "zod";
import { defineTool, ToolError } from "../../../server/types";
import { normalizePath, ROOT } from "../paths";
import { pathField } from "../schemas";
import {
  assertMayWrite,
  assertQuota,
  findEntry,
  insertDirectories,
  lockTree,
  missingAncestors,
} from "../store";

export const createDirectory = defineTool({
  name: "create_directory",
  title: "Create directory",
  description:
    "Creates a directory in the tenant's private filesystem. With parents: true, missing parent " +
    "directories are created too and an existing directory is not an error (like mkdir -p); " +
    "otherwise the parent must exist (parent_not_found) and the path must be free (already_exists).",
  input: z.strictObject({
    path: pathField,
    parents: z
      .boolean()
      .optional()
      .describe("Create missing parents and accept an existing directory (mkdir -p). Default false."),
  }),
  annotations: { destructiveHint: false, idempotentHint: false },
  async run({ path: raw, parents }, { db, principal, signal }) {
    assertMayWrite(principal);
    const path = normalizePath(raw);
    if (path === ROOT) {
      if (parents) return { path, created: false, createdDirectories: [] };
      throw new ToolError("/ already exists.", "already_exists");
    }
    await lockTree(db);
    const existing = await findEntry(db, path);
    if (existing) {
      if (existing.kind === "directory" && parents) return { path, created: false, createdDirectories: [] };
      throw new ToolError(`${path} already exists (${existing.kind}).`, "already_exists");
    }
    const missing = await missingAncestors(db, path);
    if (missing.length > 0 && !parents) {
      throw new ToolError(
        `Directory ${missing[0]} does not exist; create it or pass parents.`,
        "parent_not_found",
      );
    }
    const created = [...missing, path];
    await assertQuota(db, { entries: created.length, bytes: 0 });
    signal.throwIfAborted();
    await insertDirectories(db, created);
    return { path, created: true, createdDirectories: created };
  },
});
