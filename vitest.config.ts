import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { workerDependencyBundles } from "./test/harness/dependency-bundles";

/** Tests of Node-only tooling (they spawn pg_dump, open sockets): `*.node.test.ts` under scripts/. */
const NODE_TESTS = "scripts/**/*.node.test.ts";

export default defineConfig({
  test: {
    reporters: ["default", "./test/harness/summary-reporter.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Addresses of the real PostgreSQL (through the Neon relay) and Redis (through the
              // Upstash relay), started by the global setup before any worker boots.
              bindings: inject("workerBindings"),
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["**/*.test.ts"],
          exclude: ["node_modules/**", ".wrangler/**", NODE_TESTS],
          globalSetup: ["./test/harness/global-setup.ts"],
          setupFiles: ["./test/harness/warm-up.ts"],
          testTimeout: 20_000,
          hookTimeout: 60_000,
          deps: { optimizer: { ssr: workerDependencyBundles() } },
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: [NODE_TESTS],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
