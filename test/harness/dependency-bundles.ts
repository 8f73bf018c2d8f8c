import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Folders whose modules run inside workerd during the tests. */
const WORKER_SOURCES = ["workers", "durable-objects", "queues", "db", "mcp", "test"];

/** `import x from "pkg"`, `export … from "pkg"` and `import("pkg")`; not `import type`. */
const RUNTIME_IMPORT =
  /(?:^|\n)\s*(?:import(?!\s+type\b)|export)\b[^;]*?\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g;

/**
 * Vite's dependency pre-bundling for the Workers test project: every runtime dependency, at
 * each subpath our code imports, bundled once per run into one module. Without it, each test
 * file's isolate loads the SDKs (Anthropic, MCP, Sentry, OpenTelemetry, drizzle, zod) as
 * hundreds of separate modules, which is most of the suite's time. The list is read from the
 * sources, so a new import is bundled too: an import left out would load a second copy of its
 * package beside the bundled one (two hono `Context` classes, two zod versions).
 */
export function workerDependencyBundles(root = process.cwd()) {
  const runtimePackages = Object.keys(
    (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: object }).dependencies,
  );
  const belongsToRuntimePackage = (specifier: string) =>
    runtimePackages.some((name) => specifier === name || specifier.startsWith(`${name}/`));

  const specifiers = new Set<string>();
  for (const file of WORKER_SOURCES.flatMap((dir) => sourceFiles(join(root, dir)))) {
    for (const match of readFileSync(file, "utf8").matchAll(RUNTIME_IMPORT)) {
      const specifier = match[1] ?? match[2];
      if (specifier && belongsToRuntimePackage(specifier)) specifiers.add(specifier);
    }
  }
  return {
    enabled: true,
    include: [...specifiers].sort(),
    // workerd provides these (nodejs_compat); the bundles import them as they are.
    rolldownOptions: { external: [/^node:/, /^cloudflare:/] },
  };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}
