/**
 * The filesystem server's limits. They bound what one tenant can put in PostgreSQL and what
 * one tool call can send back to a model; `docs/mcp-filesystem.md` lists them for tenants.
 */

/** Largest UTF-8 length of a whole normalised path (`/a/b.md`), in bytes. */
export const MAX_PATH_BYTES = 1024;

/** Largest UTF-8 length of one path segment (a file or directory name), in bytes. */
export const MAX_NAME_BYTES = 255;

/** Most segments a path may have; bounds the ancestors `createIfMissingParents` may create. */
export const MAX_PATH_DEPTH = 32;

/** Largest file content, in UTF-8 bytes (1 MiB). Larger writes fail with `too_large`. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** Most entries (files and directories together) one tenant may hold. Beyond: `quota_exceeded`. */
export const MAX_ENTRIES_PER_TENANT = 10_000;

/** Most content bytes one tenant may hold across all files (100 MiB). Beyond: `quota_exceeded`. */
export const MAX_TOTAL_BYTES_PER_TENANT = 100 * 1024 * 1024;

/** Most entries `list_directory` returns; a longer listing is cut and marked `truncated`. */
export const MAX_LIST_ENTRIES = 1000;

/** Default and largest `maxResults` of `search_files`. */
export const DEFAULT_SEARCH_RESULTS = 100;
export const MAX_SEARCH_RESULTS = 500;

/** Longest `search_files` pattern, in characters. */
export const MAX_PATTERN_LENGTH = 255;
