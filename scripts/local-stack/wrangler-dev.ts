import { type ChildProcess, spawn } from "node:child_process";

export interface WranglerDev {
  process: ChildProcess;
  /** Stops wrangler and the workerd it started (the whole process group). */
  stop(): void;
}

/**
 * Starts `wrangler dev` in its own process group: wrangler runs workerd as a grandchild, and
 * signalling only the direct child would leave workerd holding the port.
 */
export function startWranglerDev(args: string[], opts: { quiet?: boolean } = {}): WranglerDev {
  const child = spawn("npx", ["wrangler", "dev", ...args, "--show-interactive-dev-session=false"], {
    stdio: ["ignore", opts.quiet ? "ignore" : "inherit", "inherit"],
    detached: true,
  });
  return {
    process: child,
    stop() {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    },
  };
}

/** Polls `url` until it answers 2xx. */
export async function waitUntilUp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`nothing answered at ${url} within ${timeoutMs / 1000}s`);
}
