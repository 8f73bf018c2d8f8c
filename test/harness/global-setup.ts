import type { TestProject } from "vitest/node";
import { startLocalStack } from "../../scripts/local-stack/index.ts";

/**
 * Starts the real local parts once for the whole run and hands their addresses to the
 * Workers pool as bindings. Fresh tenants per test keep tests apart, so nothing is reset.
 */
export default async function setup(project: TestProject) {
  const stack = await startLocalStack({
    database: process.env.MERIDIAN_TEST_DATABASE ?? "meridian_test",
    requireServers: process.env.CI === "true",
  });
  for (const line of stack.describe) console.log(`[local stack] ${line}`);
  project.provide("stack", stack.kind);
  project.provide("ownerDatabaseUrl", stack.ownerUrl);
  project.provide("workerBindings", { ...stack.bindings, ENVIRONMENT: "test", LOG_LEVEL: "silent" });
  return () => stack.close();
}
