import type { BuiltinMcpServer } from "../../server/types";
import { createDirectory } from "./tools/create-directory";
import { deleteEntry } from "./tools/delete";
import { getFileInfo } from "./tools/get-file-info";
import { listDirectory } from "./tools/list-directory";
import { readFile } from "./tools/read-file";
import { searchFiles } from "./tools/search-files";
import { writeFile } from "./tools/write-file";

/**
 * The built-in filesystem server: a private tree of UTF-8 text files per tenant, stored in
 * `mcp_files` behind the tenant wall. Paths, limits and the refused attacks are described in
 * docs/mcp-filesystem.md.
 */
export const filesystemServer: BuiltinMcpServer = {
  name: "filesystem",
  title: "Files",
  description:
    "A private filesystem for this tenant: read, write, list, search and delete UTF-8 text files " +
    "and directories under '/'. Nothing outside it, and no other tenant's files, can be reached.",
  version: "1.0.0",
  tools: [readFile, writeFile, listDirectory, createDirectory, deleteEntry, searchFiles, getFileInfo],
};
