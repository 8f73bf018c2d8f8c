/**
 * `npm run check:ops`: checks the local full stack's configuration without a Docker engine, as CI
 * runs it (`.ci/run`, after lint):
 *
 * - docker-compose.yml parses and matches the Compose Specification schema (as shipped by the npm
 *   package `dclint`), and what it mounts, depends on and publishes exists and stays local;
 * - Prometheus's config and alert rules pass `promtool check`, and the rules' unit tests
 *   (ops/prometheus/alerts.test.yml) pass `promtool test rules`; AlertManager's config passes
 *   `amtool check-config` (Debian packages `prometheus` and `prometheus-alertmanager`);
 * - every alert has a severity, a summary, a description and a runbook_url that resolves to a
 *   heading of a document in docs/;
 * - the Grafana provisioning parses, every dashboard references a provisioned datasource, and every
 *   dashboard query parses as PromQL (through promtool);
 * - every metric and label the dashboards and rules use exists in
 *   workers/observability/metrics/catalog.ts;
 * - the relay services' entry files start under Node's own TypeScript support, as in their
 *   containers, and pass their healthcheck.
 *
 * Prints one line per check and exits 1 if any failed.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Validator } from "@cfworker/json-schema";
import { parseDocument } from "yaml";
import { counters, gauges, histograms } from "../workers/observability/metrics/catalog.ts";

const ROOT = resolve(import.meta.dirname, "..");
const COMPOSE_FILE = "docker-compose.yml";
const PROMETHEUS_DIR = "ops/prometheus";
const ALERTMANAGER_CONFIG = "ops/alertmanager/alertmanager.yml";
const GRAFANA_DATASOURCES = "ops/grafana/provisioning/datasources/datasources.yml";
const GRAFANA_PROVIDERS = "ops/grafana/provisioning/dashboards/meridian.yml";
const DASHBOARDS_DIR = "ops/grafana/dashboards";
const SEVERITIES = new Set(["page", "warning"]);
/** Grafana's variables, replaced by plausible values so promtool can parse the query. */
const GRAFANA_BUILTINS: Record<string, string> = {
  __rate_interval: "5m",
  __interval: "1m",
  __range: "1h",
};
/** Labels every scraped series carries besides its own. */
const TARGET_LABELS = ["job", "instance"];

// ---------------------------------------------------------------------------------------------
// Running checks
// ---------------------------------------------------------------------------------------------

let passed = 0;
let failed = 0;

/** Runs one check: it returns a short detail on success and throws with the reason on failure. */
async function check(name: string, fn: () => string | undefined | Promise<string | undefined>) {
  try {
    const detail = await fn();
    passed++;
    console.log(`ok    ${name}${detail ? `: ${detail}` : ""}`);
  } catch (error) {
    failed++;
    const message = error instanceof Error ? error.message : String(error);
    console.log(`FAIL  ${name}\n${message.replace(/^/gm, "      ")}`);
  }
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

const read = (file: string): string => readFileSync(join(ROOT, file), "utf8");

/** YAML as Compose, Prometheus and Grafana read it: merge keys on, duplicate keys an error. */
function readYaml(file: string): unknown {
  const doc = parseDocument(read(file), { merge: true, uniqueKeys: true, prettyErrors: true });
  fail([...doc.errors, ...doc.warnings].map((e) => `${file}: ${e.message}`));
  return doc.toJS();
}

/**
 * For what several checks share: a file that does not parse is empty here, and the check that
 * owns the file reads it with {@link readYaml} and fails with the parse error.
 */
function readYamlLeniently(file: string): unknown {
  try {
    return readYaml(file);
  } catch {
    return {};
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(read(file));
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Runs an ops tool; its output becomes the failure's message. */
function runTool(tool: string, args: string[], debianPackage: string): string {
  const result = spawnSync(tool, args, { cwd: ROOT, encoding: "utf8" });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error(`${tool} is not installed: apt-get install --no-install-recommends ${debianPackage}`);
  }
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0) throw new Error(output || `${tool} exited with ${result.status}`);
  return output;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

// ---------------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------------

const require = createRequire(import.meta.url);
const dclintDir = dirname(require.resolve("dclint/package.json"));
const dclintVersion = (
  JSON.parse(readFileSync(join(dclintDir, "package.json"), "utf8")) as { version: string }
).version;

/** `${VAR:-default}` and `${VAR-default}` as Compose resolves them with VAR unset. */
const interpolate = (text: string): string =>
  text.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? "");

let compose: Record<string, unknown> = {};

await check(`${COMPOSE_FILE} matches the Compose Specification (schema from dclint ${dclintVersion})`, () => {
  compose = asRecord(readYaml(COMPOSE_FILE));
  const schema = JSON.parse(readFileSync(join(dclintDir, "schemas/compose.schema.json"), "utf8"));
  const result = new Validator(schema, "7", false).validate(compose);
  if (result.valid) return `${Object.keys(asRecord(compose.services)).length} services`;
  // The validator reports every enclosing schema too; the innermost errors say what is wrong.
  const wrappers =
    /does not match (schema|associated schema)|A subschema had errors|does not match exactly one/;
  const leaves = result.errors.filter((e) => !wrappers.test(e.error));
  fail(
    (leaves.length > 0 ? leaves : result.errors).slice(0, 12).map((e) => `${e.instanceLocation}: ${e.error}`),
  );
  return undefined;
});

await check(`${COMPOSE_FILE}: dependencies, volumes, mounts, ports and images`, () => {
  if (!compose.services) throw new Error(`${COMPOSE_FILE} has no services (or did not parse: see above)`);
  const services = asRecord(compose.services);
  const declaredVolumes = new Set(Object.keys(asRecord(compose.volumes)));
  const usedVolumes = new Set<string>();
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(services)) {
    const service = asRecord(raw);
    const dependsOn = Array.isArray(service.depends_on)
      ? service.depends_on
      : Object.keys(asRecord(service.depends_on));
    for (const dependency of dependsOn) {
      if (!(String(dependency) in services))
        problems.push(`${name}: depends on unknown service ${dependency}`);
    }
    for (const mount of asArray(service.volumes)) {
      const source = interpolate(typeof mount === "string" ? (mount.split(":")[0] ?? "") : "");
      if (source.startsWith(".") || source.startsWith("/")) {
        if (!existsSync(resolve(ROOT, source)))
          problems.push(`${name}: mounts ${source}, which does not exist`);
      } else if (source) {
        usedVolumes.add(source);
        if (!declaredVolumes.has(source)) problems.push(`${name}: uses undeclared volume ${source}`);
      }
    }
    for (const port of asArray(service.ports)) {
      if (!interpolate(String(port)).startsWith("127.0.0.1:")) {
        problems.push(`${name}: publishes ${port} beyond 127.0.0.1`);
      }
    }
    const image = String(service.image ?? "");
    if (!/:[^/]+$/.test(image) || image.endsWith(":latest")) {
      problems.push(`${name}: image "${image}" is not pinned to a tag`);
    }
  }
  for (const volume of declaredVolumes) {
    if (!usedVolumes.has(volume)) problems.push(`volume ${volume} is declared but unused`);
  }
  fail(problems);
  return undefined;
});

/** Where a service mounts a folder of the repository, e.g. ./ops/grafana/dashboards. */
function mountTarget(serviceName: string, source: string): string | undefined {
  for (const mount of asArray(asRecord(asRecord(compose.services)[serviceName]).volumes)) {
    const [from, to] = String(mount).split(":");
    if (from === source) return to;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Prometheus and AlertManager
// ---------------------------------------------------------------------------------------------

await check("promtool check config (scrape config and the rule files it loads)", () => {
  runTool("promtool", ["check", "config", `${PROMETHEUS_DIR}/prometheus.yml`], "prometheus");
  return undefined;
});

await check("promtool check rules", () => {
  const output = runTool("promtool", ["check", "rules", `${PROMETHEUS_DIR}/alerts.yml`], "prometheus");
  return output.match(/\d+ rules found/)?.[0];
});

await check("promtool test rules (alerts fire on incidents, stay quiet on near misses)", () => {
  runTool("promtool", ["test", "rules", `${PROMETHEUS_DIR}/alerts.test.yml`], "prometheus");
  const tests = asArray(asRecord(readYaml(`${PROMETHEUS_DIR}/alerts.test.yml`)).tests);
  return `${tests.length} tests`;
});

await check("amtool check-config", () => {
  runTool("amtool", ["check-config", ALERTMANAGER_CONFIG], "prometheus-alertmanager");
  return undefined;
});

interface AlertRule {
  alert: string;
  expr: string;
  labels: Record<string, unknown>;
  annotations: Record<string, unknown>;
}

const alertRules: AlertRule[] = asArray(
  asRecord(readYamlLeniently(`${PROMETHEUS_DIR}/alerts.yml`)).groups,
).flatMap((group) =>
  asArray(asRecord(group).rules).map((raw) => {
    const rule = asRecord(raw);
    return {
      alert: String(rule.alert ?? rule.record ?? "?"),
      expr: String(rule.expr ?? ""),
      labels: asRecord(rule.labels),
      annotations: asRecord(rule.annotations),
    };
  }),
);

/** GitHub's anchor for a Markdown heading. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

await check("alert rules: severity, summary, description and a runbook_url that resolves", () => {
  readYaml(`${PROMETHEUS_DIR}/alerts.yml`);
  const problems: string[] = [];
  for (const rule of alertRules) {
    if (!SEVERITIES.has(String(rule.labels.severity))) {
      problems.push(`${rule.alert}: severity must be one of ${[...SEVERITIES].join(", ")}`);
    }
    for (const key of ["summary", "description", "runbook_url"]) {
      if (!String(rule.annotations[key] ?? "").trim()) problems.push(`${rule.alert}: no ${key} annotation`);
    }
    const [file = "", anchor] = String(rule.annotations.runbook_url ?? "").split("#");
    if (!file || !anchor) continue;
    if (!existsSync(join(ROOT, file))) {
      problems.push(`${rule.alert}: runbook_url ${file} does not exist`);
      continue;
    }
    // Headings only: a "# comment" inside a fenced shell example is not one.
    const prose = read(file).replace(/^```[\s\S]*?^```/gm, "");
    const anchors = new Set([...prose.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] ?? "")));
    if (!anchors.has(anchor)) problems.push(`${rule.alert}: ${file} has no heading for #${anchor}`);
  }
  fail(problems);
  return `${alertRules.length} alerts`;
});

// ---------------------------------------------------------------------------------------------
// Grafana
// ---------------------------------------------------------------------------------------------

interface Datasource {
  uid: string;
  type: string;
}

const datasources: Datasource[] = asArray(asRecord(readYamlLeniently(GRAFANA_DATASOURCES)).datasources).map(
  (raw) => ({
    uid: String(asRecord(raw).uid ?? ""),
    type: String(asRecord(raw).type ?? ""),
  }),
);

interface DashboardQuery {
  where: string;
  expr: string;
  legend?: string;
}

const dashboardQueries: DashboardQuery[] = [];

await check("grafana provisioning: datasources with uids, dashboards from the folder compose mounts", () => {
  readYaml(GRAFANA_DATASOURCES);
  const problems: string[] = [];
  if (datasources.some((d) => !d.uid)) problems.push(`${GRAFANA_DATASOURCES}: a datasource has no uid`);
  if (!datasources.some((d) => d.type === "prometheus")) problems.push("no Prometheus datasource");
  const providers = asArray(asRecord(readYaml(GRAFANA_PROVIDERS)).providers);
  const mounted = mountTarget("grafana", `./${DASHBOARDS_DIR}`);
  if (!mounted) problems.push(`${COMPOSE_FILE}: grafana does not mount ./${DASHBOARDS_DIR}`);
  for (const provider of providers) {
    const path = asRecord(asRecord(provider).options).path;
    if (path !== mounted)
      problems.push(`${GRAFANA_PROVIDERS}: provider reads ${path}, compose mounts ${mounted}`);
  }
  const grafanaEnv = asRecord(asRecord(asRecord(compose.services).grafana).environment);
  const home = String(grafanaEnv.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? "");
  if (home && mounted && !existsSync(join(ROOT, DASHBOARDS_DIR, home.replace(`${mounted}/`, "")))) {
    problems.push(`the home dashboard ${home} is not in ${DASHBOARDS_DIR}`);
  }
  fail(problems);
  return `${datasources.map((d) => d.uid).join(", ")}`;
});

/** The dashboards that parse; the others are reported by the first dashboard check. */
const dashboards: { path: string; json: Record<string, unknown> }[] = [];
const unreadableDashboards: string[] = [];
for (const file of readdirSync(join(ROOT, DASHBOARDS_DIR))
  .filter((f) => f.endsWith(".json"))
  .sort()) {
  try {
    dashboards.push({
      path: `${DASHBOARDS_DIR}/${file}`,
      json: asRecord(readJson(`${DASHBOARDS_DIR}/${file}`)),
    });
  } catch (error) {
    unreadableDashboards.push(error instanceof Error ? error.message : String(error));
  }
}

await check("grafana dashboards: JSON, unique uids, provisioned datasources, a query per panel", () => {
  const problems: string[] = [...unreadableDashboards];
  if (dashboards.length + unreadableDashboards.length === 0)
    problems.push(`no dashboards in ${DASHBOARDS_DIR}`);
  const uids = new Set<string>();
  for (const { path, json: dashboard } of dashboards) {
    const uid = String(dashboard.uid ?? "");
    if (!uid || uids.has(uid)) problems.push(`${path}: uid "${uid}" is missing or not unique`);
    uids.add(uid);
    if (!dashboard.title) problems.push(`${path}: no title`);
    const panelIds = new Set<unknown>();
    const checkDatasource = (where: string, value: unknown) => {
      const ref = asRecord(value);
      const known = datasources.find((d) => d.uid === ref.uid);
      if (!known || known.type !== ref.type) {
        problems.push(`${where}: datasource ${JSON.stringify(value)} is not a provisioned one`);
      }
    };
    for (const raw of asArray(dashboard.panels)) {
      const panel = asRecord(raw);
      const where = `${path}: panel "${panel.title}"`;
      if (panelIds.has(panel.id)) problems.push(`${where}: duplicate id ${panel.id}`);
      panelIds.add(panel.id);
      if (panel.type === "row") continue;
      checkDatasource(where, panel.datasource);
      const targets = asArray(panel.targets);
      if (targets.length === 0) problems.push(`${where}: no query`);
      for (const rawTarget of targets) {
        const target = asRecord(rawTarget);
        checkDatasource(where, target.datasource);
        if (!String(target.expr ?? "").trim()) problems.push(`${where}: empty query`);
        dashboardQueries.push({
          where,
          expr: String(target.expr ?? ""),
          legend: typeof target.legendFormat === "string" ? target.legendFormat : undefined,
        });
      }
    }
    for (const raw of asArray(asRecord(dashboard.templating).list)) {
      const variable = asRecord(raw);
      checkDatasource(`${path}: variable ${variable.name}`, variable.datasource);
      const query = asRecord(variable.query).query ?? variable.query;
      dashboardQueries.push({ where: `${path}: variable ${variable.name}`, expr: String(query ?? "") });
    }
  }
  fail(problems);
  return `${dashboards.length} dashboards, ${dashboardQueries.length} queries`;
});

/** A dashboard query with Grafana's variables replaced, as promtool can parse it. */
function substituteVariables(query: DashboardQuery, variables: Set<string>): string {
  return query.expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    if (name in GRAFANA_BUILTINS) return GRAFANA_BUILTINS[name] as string;
    if (variables.has(name)) return ".*";
    throw new Error(`${query.where}: unknown variable ${whole} in ${query.expr}`);
  });
}

await check("grafana dashboards: every query parses as PromQL (promtool)", () => {
  const variables = new Set(
    dashboards.flatMap(({ json }) =>
      asArray(asRecord(json.templating).list).map((v) => String(asRecord(v).name)),
    ),
  );
  const rules = dashboardQueries
    .filter((q) => !q.expr.startsWith("label_values("))
    .map((q, i) => ({ record: `dashboard:query_${i}`, expr: substituteVariables(q, variables) }));
  const dir = mkdtempSync(join(tmpdir(), "meridian-ops-"));
  try {
    const file = join(dir, "dashboard-queries.yml");
    writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboards", rules }] }));
    try {
      runTool("promtool", ["check", "rules", file], "prometheus");
    } catch (error) {
      // promtool names the rule by its index: map it back to the panel.
      const message = error instanceof Error ? error.message : String(error);
      const index = Number(message.match(/group "dashboards", rule (\d+)/)?.[1] ?? Number.NaN);
      const query = dashboardQueries.filter((q) => !q.expr.startsWith("label_values("))[index - 1];
      throw new Error(query ? `${query.where}: ${query.expr}\n${message}` : message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return `${rules.length} queries`;
});

// ---------------------------------------------------------------------------------------------
// Metric names and labels against the catalog
// ---------------------------------------------------------------------------------------------

/** Every series name /metrics can expose, with the labels it carries. */
const exposed = new Map<string, Set<string>>();
for (const [name, { labels }] of Object.entries(counters)) exposed.set(name, new Set(labels));
for (const [name, { labels }] of Object.entries(gauges)) exposed.set(name, new Set(labels));
for (const [name, { labels }] of Object.entries(histograms)) {
  exposed.set(`${name}_bucket`, new Set([...labels, "le"]));
  exposed.set(`${name}_sum`, new Set(labels));
  exposed.set(`${name}_count`, new Set(labels));
}

/** Problems with the meridian_* names and labels one PromQL expression (or legend) uses. */
function catalogProblems(where: string, expr: string, legend?: string): string[] {
  const problems: string[] = [];
  const names = [...new Set([...expr.matchAll(/\bmeridian_[a-z0-9_]+\b/g)].map((m) => m[0]))];
  const usable = new Set(TARGET_LABELS);
  for (const name of names) {
    const labels = exposed.get(name);
    if (!labels) {
      problems.push(
        `${where}: ${name} is not in catalog.ts (counters end in _total; histograms are read as _bucket, _sum, _count)`,
      );
      continue;
    }
    for (const label of labels) usable.add(label);
  }
  // Matchers belong to the series they select.
  for (const [, name = "", body = ""] of expr.matchAll(/\b(meridian_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const own = exposed.get(name);
    if (!own) continue;
    for (const [, label = ""] of body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
      if (!own.has(label) && !TARGET_LABELS.includes(label))
        problems.push(`${where}: ${name} has no label "${label}"`);
    }
  }
  // label_values(metric, label)
  for (const [, name = "", label = ""] of expr.matchAll(/label_values\(\s*(\w+)\s*,\s*(\w+)\s*\)/g)) {
    if (exposed.get(name) && !exposed.get(name)?.has(label))
      problems.push(`${where}: ${name} has no label "${label}"`);
  }
  // Grouping and vector matching use labels of the series involved.
  const grouped = [
    ...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g),
  ].flatMap((m) => (m[1] ?? "").split(",").map((l) => l.trim()));
  const legendLabels = [...(legend ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] ?? "");
  for (const label of [...grouped, ...legendLabels].filter(Boolean)) {
    if (!usable.has(label))
      problems.push(`${where}: label "${label}" belongs to none of ${names.join(", ") || "its series"}`);
  }
  return problems;
}

await check("metric names and labels in alert rules and their tests exist in catalog.ts", () => {
  const problems = alertRules.flatMap((rule) => catalogProblems(`alert ${rule.alert}`, rule.expr));
  for (const test of asArray(asRecord(readYaml(`${PROMETHEUS_DIR}/alerts.test.yml`)).tests)) {
    for (const series of asArray(asRecord(test).input_series)) {
      const text = String(asRecord(series).series ?? "");
      problems.push(...catalogProblems(`test "${asRecord(test).name}"`, text));
    }
  }
  fail(problems);
  return undefined;
});

await check("metric names and labels in dashboards exist in catalog.ts", () => {
  fail(dashboardQueries.flatMap((q) => catalogProblems(q.where, q.expr, q.legend)));
  return `${exposed.size} series names known`;
});

// ---------------------------------------------------------------------------------------------
// The relay services, as their containers run them
// ---------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Waits for the child's "listening" line; rejects with its output if it exits first. */
function listening(child: ChildProcess, timeoutMs: number): Promise<void> {
  let output = "";
  return new Promise((resolveListening, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not listening after ${timeoutMs} ms\n${output}`)),
      timeoutMs,
    );
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolveListening();
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}\n${output}`));
    });
  });
}

const RELAYS = [
  { kind: "neon", entry: "ops/relays/neon-ws-relay.ts", env: {} },
  {
    kind: "upstash",
    entry: "ops/relays/upstash-relay.ts",
    env: { UPSTASH_TOKEN: "check-ops-token", REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
  { kind: "model", entry: "ops/relays/model-server.ts", env: {} },
] as const;

for (const relay of RELAYS) {
  await check(
    `relay service ${relay.entry} starts under Node's type stripping and passes its healthcheck`,
    async () => {
      const port = String(await freePort());
      const env = { ...process.env, ...relay.env, PORT: port, NODE_NO_WARNINGS: "1" };
      const child = spawn(process.execPath, [relay.entry], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        await listening(child, 15_000);
        const probe = spawnSync(process.execPath, ["ops/relays/probe.ts", relay.kind, port], {
          cwd: ROOT,
          env,
          encoding: "utf8",
        });
        if (probe.status !== 0) throw new Error(`healthcheck failed (${probe.status}) ${probe.stderr}`);
        const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
        child.kill("SIGTERM");
        const code = await exited;
        if (code !== 0) throw new Error(`exited with ${code} on SIGTERM`);
        return `Node ${process.versions.node}`;
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  );
}

console.log(
  failed === 0
    ? `ops config: all ${passed} checks passed`
    : `ops config: ${failed} of ${passed + failed} checks failed`,
);
process.exit(failed === 0 ? 0 : 1);
