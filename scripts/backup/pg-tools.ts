import { spawn } from "node:child_process";
import { join } from "node:path";

/**
 * Runs PostgreSQL's client programs (pg_dump, pg_restore). They come from the machine's
 * PostgreSQL client package and must be at least as new as the server: pg_dump refuses a newer
 * server. `BACKUP_PG_BIN_DIR` picks a directory (e.g. `/usr/lib/postgresql/17/bin`); otherwise
 * they are found on PATH.
 */

export type PgProgram = "pg_dump" | "pg_restore";

function programPath(program: PgProgram): string {
  const dir = process.env.BACKUP_PG_BIN_DIR;
  return dir ? join(dir, program) : program;
}

/**
 * A libpq connection URL split for a child process: the URL without its password (for
 * `--dbname`, so the password never shows in the process list) and `PGPASSWORD`.
 *
 * @example
 * connectionForChild("postgres://u:pw@db.example.com/app?sslmode=require");
 * // { url: "postgres://u@db.example.com/app?sslmode=require", env: { PGPASSWORD: "pw" } }
 */
export function connectionForChild(databaseUrl: string): { url: string; env: Record<string, string> } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = "";
  return { url: url.href, env: password ? { PGPASSWORD: password } : {} };
}

/**
 * Runs `program args...` to completion.
 *
 * @throws Error with the program's exit code and the tail of its stderr when it fails or is missing.
 * @example
 * await runPgProgram("pg_dump", ["--format=custom", "--file=/tmp/db.dump", `--dbname=${url}`], env);
 */
export function runPgProgram(
  program: PgProgram,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(programPath(program), args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      // Only the tail matters for the error; a long restore can warn a lot.
      stderr = (stderr + chunk.toString("utf8")).slice(-4000);
    });
    child.on("error", (error) =>
      reject(new Error(`${program} could not be started: ${error.message}`, { cause: error })),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`${program} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || "no output"}`));
    });
  });
}

/** `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`: recorded in each backup's manifest. */
export async function pgProgramVersion(program: PgProgram): Promise<string> {
  return (await runPgProgram(program, ["--version"])).trim();
}
