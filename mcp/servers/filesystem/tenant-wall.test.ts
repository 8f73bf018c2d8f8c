import { beforeAll, describe, expect, test } from "vitest";
import { mcpFiles } from "../../../db/schema";
import { withTenantDb } from "../../../workers/routes/conversations/test-fixtures";
import { callTool, expectToolError, newCaller, warmUp } from "./test-fixtures";
import { createDirectory } from "./tools/create-directory";
import { deleteEntry } from "./tools/delete";
import { getFileInfo } from "./tools/get-file-info";
import { listDirectory } from "./tools/list-directory";
import { readFile } from "./tools/read-file";
import { searchFiles } from "./tools/search-files";
import { writeFile } from "./tools/write-file";

beforeAll(warmUp);

describe("tenant wall", () => {
  test("tenant B cannot read, list, search, describe or delete tenant A's files", async () => {
    const a = await newCaller();
    const b = await newCaller();
    await callTool(writeFile, { path: "/secret.md", content: "A only" }, a);
    await callTool(writeFile, { path: "/shared/x.md", content: "A", createIfMissingParents: true }, a);

    await expectToolError(callTool(readFile, { path: "/secret.md" }, b), "not_found");
    await expectToolError(callTool(getFileInfo, { path: "/secret.md" }, b), "not_found");
    await expectToolError(callTool(listDirectory, { path: "/shared" }, b), "not_found");
    await expectToolError(callTool(deleteEntry, { path: "/shared", recursive: true }, b), "not_found");
    expect(await callTool(listDirectory, { path: "/" }, b)).toMatchObject({ entries: [] });
    expect(await callTool(searchFiles, { path: "/", pattern: "*" }, b)).toMatchObject({ matches: [] });
    expect(await callTool(getFileInfo, { path: "/" }, b)).toMatchObject({ children: 0 });

    expect(await callTool(readFile, { path: "/secret.md" }, a)).toMatchObject({ content: "A only" });
    expect(await callTool(getFileInfo, { path: "/shared" }, a)).toMatchObject({ children: 1 });
  });

  test("each tenant sees only its own tree, even at the same paths", async () => {
    const a = await newCaller();
    const b = await newCaller();
    await callTool(writeFile, { path: "/notes.md", content: "from A" }, a);
    expect(await callTool(writeFile, { path: "/notes.md", content: "from B!" }, b)).toMatchObject({
      created: true,
    });
    await callTool(createDirectory, { path: "/only-b" }, b);

    expect(await callTool(readFile, { path: "/notes.md" }, a)).toMatchObject({
      content: "from A",
      sizeBytes: 6,
    });
    expect(await callTool(readFile, { path: "/notes.md" }, b)).toMatchObject({
      content: "from B!",
      sizeBytes: 7,
    });
    const listA = await callTool<{ entries: { name: string }[] }>(listDirectory, { path: "/" }, a);
    const listB = await callTool<{ entries: { name: string }[] }>(listDirectory, { path: "/" }, b);
    expect(listA.entries.map((e) => e.name)).toEqual(["notes.md"]);
    expect(listB.entries.map((e) => e.name)).toEqual(["notes.md", "only-b"]);

    await callTool(deleteEntry, { path: "/notes.md" }, b);
    expect(await callTool(readFile, { path: "/notes.md" }, a)).toMatchObject({ content: "from A" });

    // Row-level security, not just the tools' filters: an unfiltered select sees one tenant.
    const rowsOfB = await withTenantDb(b.tenantId, (db) => db.select().from(mcpFiles));
    expect(rowsOfB.map((r) => [r.tenantId, r.path])).toEqual([[b.tenantId, "/only-b"]]);
  });
});
