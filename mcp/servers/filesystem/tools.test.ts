import { beforeAll, describe, expect, test } from "vitest";
import { createTenant } from "../../../test/harness/fixtures";
import { ToolError } from "../../server/types";
import { filesystemServer } from "./index";
import { type Caller, callTool, expectToolError, newCaller, warmUp } from "./test-fixtures";
import { createDirectory } from "./tools/create-directory";
import { deleteEntry } from "./tools/delete";
import { getFileInfo } from "./tools/get-file-info";
import { listDirectory } from "./tools/list-directory";
import { readFile } from "./tools/read-file";
import { searchFiles } from "./tools/search-files";
import { writeFile } from "./tools/write-file";

interface Listing {
  path: string;
  entries: { name: string; kind: string; sizeBytes: number; updatedAt: string }[];
  truncated: boolean;
}
interface Search {
  matches: { path: string; name: string; kind: string }[];
  truncated: boolean;
}

beforeAll(warmUp);

async function names(caller: Caller, path: string): Promise<string[]> {
  const listing = await callTool<Listing>(listDirectory, { path }, caller);
  return listing.entries.map((e) => e.name);
}

async function found(caller: Caller, path: string, pattern: string): Promise<string[]> {
  const result = await callTool<Search>(searchFiles, { path, pattern }, caller);
  return result.matches.map((m) => m.path);
}

describe("filesystem server", () => {
  test("exports the seven tools with schemas and descriptions", () => {
    expect(filesystemServer.name).toBe("filesystem");
    expect(filesystemServer.tools.map((t) => t.name).sort()).toEqual([
      "create_directory",
      "delete",
      "get_file_info",
      "list_directory",
      "read_file",
      "search_files",
      "write_file",
    ]);
    for (const tool of filesystemServer.tools) {
      expect(tool.description.length, tool.name).toBeGreaterThan(60);
      expect(tool.input.safeParse({}).success, tool.name).toBe(false);
    }
  });
});

describe("read_file and write_file", () => {
  test("writes, reads back and replaces a file, counting UTF-8 bytes", async () => {
    const me = await newCaller();
    const created = await callTool(writeFile, { path: "notes.md", content: "héllo ✓" }, me);
    expect(created).toMatchObject({
      path: "/notes.md",
      sizeBytes: 10,
      created: true,
      createdDirectories: [],
    });

    const read = await callTool(readFile, { path: "/notes.md" }, me);
    expect(read).toMatchObject({ path: "/notes.md", content: "héllo ✓", sizeBytes: 10 });
    expect(new Date(read.updatedAt as string).getTime()).not.toBeNaN();

    const replaced = await callTool(writeFile, { path: "/./notes.md", content: "" }, me);
    expect(replaced).toMatchObject({ path: "/notes.md", sizeBytes: 0, created: false });
    expect(await callTool(readFile, { path: "notes.md" }, me)).toMatchObject({ content: "", sizeBytes: 0 });
  });

  test("needs the parent directory unless createIfMissingParents", async () => {
    const me = await newCaller();
    await expectToolError(callTool(writeFile, { path: "/a/b/c.txt", content: "x" }, me), "parent_not_found");
    expect(await names(me, "/")).toEqual([]);

    const made = await callTool(
      writeFile,
      { path: "/a/b/c.txt", content: "x", createIfMissingParents: true },
      me,
    );
    expect(made).toMatchObject({ created: true, createdDirectories: ["/a", "/a/b"] });
    expect(await callTool(getFileInfo, { path: "/a/b" }, me)).toMatchObject({
      kind: "directory",
      children: 1,
    });

    await callTool(writeFile, { path: "/a/d.txt", content: "y" }, me);
    expect(await names(me, "/a")).toEqual(["b", "d.txt"]);
  });

  test("refuses directories, a file used as a directory, NUL content and bad paths", async () => {
    const me = await newCaller();
    await callTool(createDirectory, { path: "/dir" }, me);
    await callTool(writeFile, { path: "/file", content: "x" }, me);
    await expectToolError(callTool(writeFile, { path: "/dir", content: "x" }, me), "is_a_directory");
    await expectToolError(callTool(writeFile, { path: "/", content: "x" }, me), "is_a_directory");
    await expectToolError(callTool(writeFile, { path: "/file/x", content: "x" }, me), "not_a_directory");
    await expectToolError(
      callTool(writeFile, { path: "/file/x/y", content: "x", createIfMissingParents: true }, me),
      "not_a_directory",
    );
    await expectToolError(callTool(writeFile, { path: "/n", content: "a\u0000b" }, me), "invalid_content");
    await expectToolError(callTool(writeFile, { path: "/s", content: "a\uD800b" }, me), "invalid_content");
    await expectToolError(callTool(writeFile, { path: "../x", content: "x" }, me), "path_outside_root");
    await expectToolError(callTool(writeFile, { path: "%2e%2e/x", content: "x" }, me), "invalid_path");
    expect(await names(me, "/")).toEqual(["dir", "file"]);
  });

  test("read_file: not_found and is_a_directory", async () => {
    const me = await newCaller();
    await callTool(createDirectory, { path: "/dir" }, me);
    await expectToolError(callTool(readFile, { path: "/missing.md" }, me), "not_found");
    await expectToolError(callTool(readFile, { path: "/dir" }, me), "is_a_directory");
    await expectToolError(callTool(readFile, { path: "/" }, me), "is_a_directory");
  });
});

describe("create_directory", () => {
  test("creates one level, or every missing level with parents", async () => {
    const me = await newCaller();
    expect(await callTool(createDirectory, { path: "docs" }, me)).toMatchObject({
      path: "/docs",
      created: true,
      createdDirectories: ["/docs"],
    });
    await expectToolError(callTool(createDirectory, { path: "/x/y" }, me), "parent_not_found");
    expect(await callTool(createDirectory, { path: "/x/y/z", parents: true }, me)).toMatchObject({
      createdDirectories: ["/x", "/x/y", "/x/y/z"],
    });
    expect(await names(me, "/")).toEqual(["docs", "x"]);
  });

  test("an existing path is already_exists, except a directory with parents (mkdir -p)", async () => {
    const me = await newCaller();
    await callTool(createDirectory, { path: "/docs" }, me);
    await callTool(writeFile, { path: "/file", content: "" }, me);
    await expectToolError(callTool(createDirectory, { path: "/docs" }, me), "already_exists");
    await expectToolError(callTool(createDirectory, { path: "/" }, me), "already_exists");
    await expectToolError(callTool(createDirectory, { path: "/file", parents: true }, me), "already_exists");
    await expectToolError(
      callTool(createDirectory, { path: "/file/sub", parents: true }, me),
      "not_a_directory",
    );
    expect(await callTool(createDirectory, { path: "/docs", parents: true }, me)).toMatchObject({
      created: false,
    });
    expect(await callTool(createDirectory, { path: "/", parents: true }, me)).toMatchObject({
      created: false,
    });
  });
});

describe("list_directory", () => {
  test("lists direct children only, with kind and size; the root always exists", async () => {
    const me = await newCaller();
    expect(await callTool(listDirectory, { path: "/" }, me)).toEqual({
      path: "/",
      entries: [],
      truncated: false,
    });
    await callTool(writeFile, { path: "/docs/a.md", content: "abc", createIfMissingParents: true }, me);
    await callTool(writeFile, { path: "/docs/deep/b.md", content: "b", createIfMissingParents: true }, me);
    await callTool(writeFile, { path: "/top.txt", content: "t" }, me);

    const root = await callTool<Listing>(listDirectory, { path: "." }, me);
    expect(root.entries.map(({ name, kind, sizeBytes }) => ({ name, kind, sizeBytes }))).toEqual([
      { name: "docs", kind: "directory", sizeBytes: 0 },
      { name: "top.txt", kind: "file", sizeBytes: 1 },
    ]);
    const docs = await callTool<Listing>(listDirectory, { path: "docs/" }, me);
    expect(docs).toMatchObject({
      path: "/docs",
      entries: [
        { name: "a.md", kind: "file", sizeBytes: 3 },
        { name: "deep", kind: "directory" },
      ],
      truncated: false,
    });
  });

  test("not_found and not_a_directory", async () => {
    const me = await newCaller();
    await callTool(writeFile, { path: "/f", content: "" }, me);
    await expectToolError(callTool(listDirectory, { path: "/nope" }, me), "not_found");
    await expectToolError(callTool(listDirectory, { path: "/f" }, me), "not_a_directory");
  });
});

describe("delete", () => {
  test("deletes a file and an empty directory", async () => {
    const me = await newCaller();
    await callTool(writeFile, { path: "/f.txt", content: "12345" }, me);
    await callTool(createDirectory, { path: "/empty" }, me);
    expect(await callTool(deleteEntry, { path: "/f.txt" }, me)).toEqual({
      path: "/f.txt",
      kind: "file",
      deletedEntries: 1,
      freedBytes: 5,
    });
    expect(await callTool(deleteEntry, { path: "empty" }, me)).toMatchObject({
      kind: "directory",
      deletedEntries: 1,
    });
    expect(await names(me, "/")).toEqual([]);
  });

  test("a non-empty directory needs recursive, which removes everything below it", async () => {
    const me = await newCaller();
    await callTool(writeFile, { path: "/d/a.txt", content: "aa", createIfMissingParents: true }, me);
    await callTool(writeFile, { path: "/d/sub/b.txt", content: "bbb", createIfMissingParents: true }, me);
    await expectToolError(callTool(deleteEntry, { path: "/d" }, me), "directory_not_empty");
    expect(await names(me, "/d")).toEqual(["a.txt", "sub"]);
    expect(await callTool(deleteEntry, { path: "/d", recursive: true }, me)).toEqual({
      path: "/d",
      kind: "directory",
      deletedEntries: 4,
      freedBytes: 5,
    });
    await expectToolError(callTool(getFileInfo, { path: "/d/sub/b.txt" }, me), "not_found");
    expect(await names(me, "/")).toEqual([]);
  });

  test("the root is protected; a missing path is not_found", async () => {
    const me = await newCaller();
    await callTool(writeFile, { path: "/keep", content: "k" }, me);
    await expectToolError(callTool(deleteEntry, { path: "/", recursive: true }, me), "root_protected");
    await expectToolError(callTool(deleteEntry, { path: "./", recursive: true }, me), "root_protected");
    await expectToolError(callTool(deleteEntry, { path: "/missing" }, me), "not_found");
    expect(await names(me, "/")).toEqual(["keep"]);
  });
});

describe("search_files", () => {
  test("globs and substrings on names, ignoring case, anywhere below the directory", async () => {
    const me = await newCaller();
    for (const path of [
      "/README.md",
      "/docs/guide.md",
      "/docs/deep/Notes.MD",
      "/docs/report-2024.csv",
      "/src/x.ts",
    ]) {
      await callTool(writeFile, { path, content: path, createIfMissingParents: true }, me);
    }
    expect(await found(me, "/", "*.md")).toEqual(["/README.md", "/docs/deep/Notes.MD", "/docs/guide.md"]);
    expect(await found(me, "/docs", "*.md")).toEqual(["/docs/deep/Notes.MD", "/docs/guide.md"]);
    expect(await found(me, "/", "report-????.csv")).toEqual(["/docs/report-2024.csv"]);
    expect(await found(me, "/", "report-???.csv")).toEqual([]);
    expect(await found(me, "/", "NOTES")).toEqual(["/docs/deep/Notes.MD"]);
    expect(await found(me, "/", "deep")).toEqual(["/docs/deep"]);
    expect(await found(me, "/docs", "docs")).toEqual([]);
  });

  test("maxResults cuts the list and says so; bad input is refused", async () => {
    const me = await newCaller();
    for (const n of [1, 2, 3]) await callTool(writeFile, { path: `/f${n}.txt`, content: "" }, me);
    const cut = await callTool<Search>(searchFiles, { path: "/", pattern: "*.txt", maxResults: 2 }, me);
    expect(cut.matches.map((m) => m.name)).toEqual(["f1.txt", "f2.txt"]);
    expect(cut.truncated).toBe(true);
    const all = await callTool<Search>(searchFiles, { path: "/", pattern: "*.txt", maxResults: 3 }, me);
    expect(all.truncated).toBe(false);
    await expectToolError(callTool(searchFiles, { path: "/", pattern: "a/b" }, me), "invalid_pattern");
    await expectToolError(callTool(searchFiles, { path: "/", pattern: "" }, me), "invalid_pattern");
    await expectToolError(callTool(searchFiles, { path: "/nope", pattern: "*" }, me), "not_found");
    await expectToolError(callTool(searchFiles, { path: "/f1.txt", pattern: "*" }, me), "not_a_directory");
    await expectToolError(callTool(searchFiles, { path: "/../", pattern: "*" }, me), "path_outside_root");
  });
});

describe("get_file_info", () => {
  test("describes files, directories and the root", async () => {
    const me = await newCaller();
    await callTool(writeFile, { path: "/d/f.md", content: "four", createIfMissingParents: true }, me);
    const file = await callTool(getFileInfo, { path: "/d/f.md" }, me);
    expect(file).toMatchObject({ path: "/d/f.md", name: "f.md", kind: "file", sizeBytes: 4 });
    expect(file).not.toHaveProperty("children");
    expect(Date.parse(file.createdAt as string)).toBeLessThanOrEqual(Date.parse(file.updatedAt as string));
    expect(await callTool(getFileInfo, { path: "/d" }, me)).toMatchObject({ kind: "directory", children: 1 });
    expect(await callTool(getFileInfo, { path: "/" }, me)).toEqual({
      path: "/",
      name: "",
      kind: "directory",
      sizeBytes: 0,
      createdAt: null,
      updatedAt: null,
      children: 1,
    });
    await expectToolError(callTool(getFileInfo, { path: "/d/missing" }, me), "not_found");
  });
});

describe("prefixes and LIKE wildcards in names", () => {
  test("/data never reaches /data2: list, search and delete", async () => {
    const me = await newCaller();
    await callTool(writeFile, { path: "/data/a.md", content: "a", createIfMissingParents: true }, me);
    await callTool(writeFile, { path: "/data2/b.md", content: "b", createIfMissingParents: true }, me);
    await callTool(writeFile, { path: "/data.md", content: "c" }, me);

    expect(await names(me, "/data")).toEqual(["a.md"]);
    expect(await found(me, "/data", "*.md")).toEqual(["/data/a.md"]);
    expect(await callTool(getFileInfo, { path: "/data" }, me)).toMatchObject({ children: 1 });
    expect(await callTool(deleteEntry, { path: "/data", recursive: true }, me)).toMatchObject({
      deletedEntries: 2,
    });
    expect(await callTool(readFile, { path: "/data2/b.md" }, me)).toMatchObject({ content: "b" });
    expect(await callTool(readFile, { path: "/data.md" }, me)).toMatchObject({ content: "c" });
  });

  test("/a_b and /100% match only themselves, not /axb or /1000", async () => {
    const me = await newCaller();
    for (const dir of ["/a_b", "/axb", "/100%", "/1000", "/100x"]) {
      await callTool(
        writeFile,
        { path: `${dir}/in-${dir.slice(1)}.txt`, content: dir, createIfMissingParents: true },
        me,
      );
    }
    expect(await names(me, "/a_b")).toEqual(["in-a_b.txt"]);
    expect(await names(me, "/100%")).toEqual(["in-100%.txt"]);
    expect(await found(me, "/a_b", "*")).toEqual(["/a_b/in-a_b.txt"]);
    expect(await found(me, "/100%", "*")).toEqual(["/100%/in-100%.txt"]);
    expect(await found(me, "/", "a_b")).toEqual(["/a_b", "/a_b/in-a_b.txt"]);
    expect(await found(me, "/", "100%")).toEqual(["/100%", "/100%/in-100%.txt"]);
    expect(await found(me, "/", "in-100%*")).toEqual(["/100%/in-100%.txt"]);

    await expectToolError(callTool(deleteEntry, { path: "/a_b" }, me), "directory_not_empty");
    await callTool(deleteEntry, { path: "/a_b/in-a_b.txt" }, me);
    expect(await callTool(deleteEntry, { path: "/a_b" }, me)).toMatchObject({ deletedEntries: 1 });
    expect(await callTool(deleteEntry, { path: "/100%", recursive: true }, me)).toMatchObject({
      deletedEntries: 2,
    });
    expect(await names(me, "/")).toEqual(["1000", "100x", "axb"]);
    expect(await names(me, "/axb")).toEqual(["in-axb.txt"]);
    expect(await names(me, "/1000")).toEqual(["in-1000.txt"]);
  });
});

describe("roles", () => {
  test("a viewer reads but cannot write, create or delete", async () => {
    const { tenant, owner } = await createTenant();
    const writer: Caller = { tenantId: tenant.id, userId: owner.id };
    const viewer: Caller = { ...writer, role: "viewer" };
    await callTool(writeFile, { path: "/r.md", content: "r" }, writer);
    expect(await callTool(readFile, { path: "/r.md" }, viewer)).toMatchObject({ content: "r" });
    expect(await names(viewer, "/")).toEqual(["r.md"]);
    await expectToolError(callTool(writeFile, { path: "/r.md", content: "x" }, viewer), "read_only");
    await expectToolError(callTool(createDirectory, { path: "/d" }, viewer), "read_only");
    await expectToolError(callTool(deleteEntry, { path: "/r.md" }, viewer), "read_only");
    expect(await callTool(readFile, { path: "/r.md" }, viewer)).toMatchObject({ content: "r" });
  });
});

describe("cancellation", () => {
  test("a write whose call was already cancelled or timed out writes nothing", async () => {
    const me = await newCaller();
    const controller = new AbortController();
    controller.abort(new ToolError("The tool did not finish within 30 s.", "timeout"));
    const { signal } = controller;
    await expectToolError(
      callTool(writeFile, { path: "/a/b.md", content: "x", createIfMissingParents: true }, me, { signal }),
      "timeout",
    );
    await expectToolError(callTool(createDirectory, { path: "/d" }, me, { signal }), "timeout");
    await callTool(writeFile, { path: "/keep.md", content: "k" }, me);
    await expectToolError(callTool(deleteEntry, { path: "/keep.md" }, me, { signal }), "timeout");
    expect(await names(me, "/")).toEqual(["keep.md"]);
  });
});
