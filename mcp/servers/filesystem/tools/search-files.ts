import { and, sql } from "drizzle-orm";
import { z } from "zod";
import { mcpFiles } from "../../../../db/schema";
import { defineTool } from "../../../server/types";
import { DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS } from "../limits";
import { baseName, normalizePath } from "../paths";
import { compileNamePattern } from "../pattern";
import { pathField } from "../schemas";
import { below, byPath, entryColumns, iso, ofTenant, requireDirectory } from "../store";

export const searchFiles = defineTool({
  name: "search_files",
  title: "Search files",
  description:
    "Finds files and directories anywhere below a directory of the tenant's private filesystem whose " +
    "name matches a pattern, ignoring case. A pattern with * or ? is a glob on the whole name " +
    "('*.md', 'report-????.csv'); without, it matches any name containing it ('invoice'). " +
    `Returns at most maxResults (default ${DEFAULT_SEARCH_RESULTS}, at most ${MAX_SEARCH_RESULTS}) ` +
    "paths sorted by path; truncated says whether there were more.",
  input: z.strictObject({
    path: pathField.describe(
      "Directory to search under ('/' for everything); relative paths start at the root. " +
        "'..', '~', backslashes, percent-encoding, ':' and control or invisible characters are refused.",
    ),
    pattern: z.string().describe("Glob on the name ('*.md') or a substring of it ('report')."),
    maxResults: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        `How many matches to return; default ${DEFAULT_SEARCH_RESULTS}, capped at ${MAX_SEARCH_RESULTS}.`,
      ),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run({ path: raw, pattern, maxResults }, { db }) {
    const path = normalizePath(raw);
    const name = compileNamePattern(pattern);
    await requireDirectory(db, path);
    const limit = Math.min(maxResults ?? DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS);
    const rows = await db
      .select(entryColumns)
      .from(mcpFiles)
      .where(
        and(
          ofTenant(db),
          below(path),
          sql`regexp_replace(${mcpFiles.path}, '^.*/', '') ilike ${name.like} escape '\\'`,
        ),
      )
      .orderBy(byPath)
      .limit(limit + 1);
    return {
      path,
      pattern,
      matches: rows.slice(0, limit).map((r) => ({
        path: r.path,
        name: baseName(r.path),
        kind: r.kind,
        sizeBytes: r.sizeBytes,
        updatedAt: iso(r.updatedAt),
      })),
      truncated: rows.length > limit,
    };
  },
});
