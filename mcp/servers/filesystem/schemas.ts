import { z } from "zod";
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from "./limits";

/** The `path` argument every tool takes. The rules themselves live in `normalizePath`. */
export const pathField = z
  .string()
  .describe(
    "Path in the tenant's private filesystem, '/'-separated; relative paths start at the root '/'. " +
      `At most ${MAX_PATH_BYTES} bytes, names at most ${MAX_NAME_BYTES}. '..', '~', backslashes, ` +
      "percent-encoding, ':' and control or invisible characters are refused.",
  );
