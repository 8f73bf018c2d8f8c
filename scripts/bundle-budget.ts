/**
 * Builds the Worker as `wrangler deploy` would (without deploying) and checks its gzip size
 * against a budget, so a change that drifts toward Workers' limits (3 MiB gzip on the free
 * plan, 10 MiB paid) is seen in CI long before a deploy fails.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** The budget: well under the free plan's 3 MiB, leaving room for the features still to come. */
const BUDGET_GZIP_BYTES = 2 * 1024 * 1024;
const FREE_PLAN_LIMIT = 3 * 1024 * 1024;

const outdir = mkdtempSync(join(tmpdir(), "meridian-bundle-"));
try {
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(outdir)) {
    if (!/\.(m?js|wasm)$/.test(file)) continue;
    const bytes = readFileSync(join(outdir, file));
    raw += statSync(join(outdir, file)).size;
    gzip += gzipSync(bytes, { level: 9 }).byteLength;
  }
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `bundle: ${kib(raw)} raw, ${kib(gzip)} gzip; budget ${kib(BUDGET_GZIP_BYTES)} gzip ` +
      `(${((gzip / BUDGET_GZIP_BYTES) * 100).toFixed(0)}% used; free-plan limit ${kib(FREE_PLAN_LIMIT)})`,
  );
  if (gzip > BUDGET_GZIP_BYTES) {
    console.error("bundle: over budget");
    process.exit(1);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
