import { beforeAll, describe, expect, test } from "vitest";
import {
  MAX_ENTRIES_PER_TENANT,
  MAX_FILE_BYTES,
  MAX_LIST_ENTRIES,
  MAX_SEARCH_RESULTS,
  MAX_TOTAL_BYTES_PER_TENANT,
} from "./limits";
import { callTool, expectToolError, newCaller, seedFiles, warmUp } from "./test-fixtures";
import { createDirectory } from "./tools/create-directory";
import { deleteEntry } from "./tools/delete";
import { listDirectory } from "./tools/list-directory";
import { readFile } from "./tools/read-file";
import { searchFiles } from "./tools/search-files";
import { writeFile } from "./tools/write-file";

beforeAll(warmUp);

describe("limits", () => {
  test("a file is at most 1 MiB of UTF-8, counted in bytes", async () => {
    const me = await newCaller();
    const full = "a".repeat(MAX_FILE_BYTES);
    expect(await callTool(writeFile, { path: "/full.txt", content: full }, me)).toMatchObject({
      sizeBytes: MAX_FILE_BYTES,
    });
    expect(await callTool(readFile, { path: "/full.txt" }, me)).toMatchObject({ sizeBytes: MAX_FILE_BYTES });
    await expectToolError(callTool(writeFile, { path: "/over.txt", content: `${full}a` }, me), "too_large");
    // Fewer characters than the limit, more bytes.
    const twoByte = "é".repeat(MAX_FILE_BYTES / 2 + 1);
    await expectToolError(callTool(writeFile, { path: "/over.txt", content: twoByte }, me), "too_large");
    await expectToolError(callTool(readFile, { path: "/over.txt" }, me), "not_found");
  });

  test(`a tenant holds at most ${MAX_ENTRIES_PER_TENANT} entries; overwriting and deleting still work`, async () => {
    const me = await newCaller();
    await seedFiles(me.tenantId, "", MAX_ENTRIES_PER_TENANT - 1);
    await callTool(writeFile, { path: "/last.txt", content: "x" }, me);
    await expectToolError(callTool(writeFile, { path: "/one-more.txt", content: "x" }, me), "quota_exceeded");
    await expectToolError(callTool(createDirectory, { path: "/dir" }, me), "quota_exceeded");
    await expectToolError(
      callTool(writeFile, { path: "/p/q.txt", content: "x", createIfMissingParents: true }, me),
      "quota_exceeded",
    );
    await expectToolError(callTool(readFile, { path: "/one-more.txt" }, me), "not_found");
    await callTool(writeFile, { path: "/last.txt", content: "replaced" }, me);
    await callTool(deleteEntry, { path: "/f00001" }, me);
    await callTool(createDirectory, { path: "/dir" }, me);
  });

  test(`a tenant's files hold at most ${MAX_TOTAL_BYTES_PER_TENANT} bytes; a file can still shrink`, async () => {
    const me = await newCaller();
    await seedFiles(me.tenantId, "", 1, { sizeBytes: MAX_TOTAL_BYTES_PER_TENANT - 10 });
    await callTool(writeFile, { path: "/ten.txt", content: "0123456789" }, me);
    await expectToolError(callTool(writeFile, { path: "/one.txt", content: "1" }, me), "quota_exceeded");
    await expectToolError(
      callTool(writeFile, { path: "/ten.txt", content: "0123456789a" }, me),
      "quota_exceeded",
    );
    await callTool(writeFile, { path: "/ten.txt", content: "01234" }, me);
    await callTool(writeFile, { path: "/one.txt", content: "12345" }, me);
    // Empty files and directories take no bytes.
    await callTool(writeFile, { path: "/empty.txt", content: "" }, me);
    await callTool(createDirectory, { path: "/dir" }, me);
  });

  test("concurrent writes at the entry limit: exactly one wins", async () => {
    const me = await newCaller();
    await seedFiles(me.tenantId, "", MAX_ENTRIES_PER_TENANT - 1);
    const results = await Promise.allSettled(
      ["/a.txt", "/b.txt", "/c.txt"].map((path) => callTool(writeFile, { path, content: "x" }, me)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect(r.reason).toMatchObject({ name: "ToolError", reason: "quota_exceeded" });
    }
  });

  test(`listings stop at ${MAX_LIST_ENTRIES} entries and searches at ${MAX_SEARCH_RESULTS}, marked truncated`, async () => {
    const me = await newCaller();
    await callTool(createDirectory, { path: "/many" }, me);
    await seedFiles(me.tenantId, "/many", MAX_LIST_ENTRIES + 1);
    const listing = await callTool<{ entries: { name: string }[]; truncated: boolean }>(
      listDirectory,
      { path: "/many" },
      me,
    );
    expect(listing.entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(listing.entries[0]?.name).toBe("f00001");
    expect(listing.truncated).toBe(true);

    const search = await callTool<{ matches: unknown[]; truncated: boolean }>(
      searchFiles,
      { path: "/", pattern: "f*", maxResults: 1_000_000 },
      me,
    );
    expect(search.matches).toHaveLength(MAX_SEARCH_RESULTS);
    expect(search.truncated).toBe(true);
  });
});
