import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints test counts per suite (file) and one closing `N passed, N failed, N skipped` line.
 * With `MERIDIAN_NO_SKIPS=1` (set by .ci/run) any skipped test fails the run: CI must
 * exercise everything against the real services.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const lines: string[] = [];
    const skipReasons: string[] = [];
    for (const mod of [...testModules].sort((a, b) => a.relativeModuleId.localeCompare(b.relativeModuleId))) {
      const counts = { passed: 0, failed: 0, skipped: 0 };
      for (const test of mod.children.allTests()) {
        const result = test.result();
        const state = result.state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else if (state === "skipped") {
          counts.skipped++;
          const note = result.state === "skipped" ? result.note : undefined;
          skipReasons.push(`  ${mod.relativeModuleId} > ${test.name}${note ? `: ${note}` : ""}`);
        }
      }
      if (mod.state() === "failed" && counts.failed === 0) counts.failed++;
      passed += counts.passed;
      failed += counts.failed;
      skipped += counts.skipped;
      lines.push(
        `  ${mod.relativeModuleId}: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ""}`,
      );
    }
    console.log("\nTests per suite:");
    for (const line of lines) console.log(line);
    if (skipReasons.length > 0) {
      console.log("\nSkipped:");
      for (const line of skipReasons) console.log(line);
    }
    console.log(`\nmeridian: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    if (process.env.MERIDIAN_NO_SKIPS === "1" && skipped > 0) {
      console.error(`meridian: ${skipped} skipped test(s); CI requires zero skips.`);
      process.exitCode = 1;
    }
  }
}
