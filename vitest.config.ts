import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
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
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".wrangler/**"],
    globalSetup: ["./test/harness/global-setup.ts"],
    setupFiles: ["./test/harness/warm-up.ts"],
    reporters: ["default", "./test/harness/summary-reporter.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
