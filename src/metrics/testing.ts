// Test helpers for metric collectors: a stub TracerContext on the default config, and one-collector scrapes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defaultConfig, type Config } from "../config/schema";
import { ConfigStore } from "../config/store";
import { FamilySet, type Family } from "../framework/families";
import { registeredTracers } from "../framework/registry";
import type { Labels, MetricCollector, TracerContext } from "../framework/types";
import { Logger } from "../log";
import type { Container } from "../pod/types";
import { discardEvents } from "../storage/sink";

/** The mock root under the repository: `setRootPrefix(FIXTURES)`. */
export const FIXTURES = join(import.meta.dir, "../../fixtures");

const tempRoots: string[] = [];

/** A throwaway mock root holding `files` (path relative to the root → content); see removeTempRoots. */
export function tempRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "huatuo-metrics-"));
  tempRoots.push(root);
  writeFiles(root, files);
  return root;
}

/** Deletes every root made by tempRoot; call from afterAll. */
export function removeTempRoots(): void {
  for (const root of tempRoots.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Writes (or overwrites) files under an existing root. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

export interface StubOptions {
  containers?: Container[];
  /** Edits the default config before it is frozen in the store. */
  config?: (config: Config) => void;
}

export function stubContext(options: StubOptions = {}): TracerContext {
  const config = defaultConfig();
  options.config?.(config);
  const containers = options.containers ?? [];
  return {
    config: new ConfigStore(config),
    log: new Logger("test"),
    containers: { list: () => containers },
    region: "dev",
    hostname: "huatuo-dev",
    events: discardEvents,
  };
}

/** Creates the registered collector `name` (its module must be imported by the test). */
export async function createCollector(name: string, ctx: TracerContext = stubContext()): Promise<MetricCollector> {
  const def = registeredTracers().find((d) => d.name === name);
  if (!def) throw new Error(`collector ${name} is not registered`);
  const tracer = await def.create(ctx);
  if (!tracer.collector) throw new Error(`tracer ${name} has no collector`);
  return tracer.collector;
}

/**
 * One scrape of one collector, as the framework would run it: of `collector`, or else of a fresh
 * createCollector(name) on stubContext(options) (errors of its creation, e.g. UnsupportedError, reject).
 */
export async function scrape(name: string, from: MetricCollector | StubOptions = {}): Promise<Family[]> {
  const collector = isCollector(from) ? from : await createCollector(name, stubContext(from));
  const set = new FamilySet({ host: "huatuo-dev", region: "dev" });
  await collector.collect(set.emitterFor(name), new AbortController().signal);
  return set.all();
}

function isCollector(from: MetricCollector | StubOptions): from is MetricCollector {
  return typeof (from as Partial<MetricCollector>).collect === "function";
}

/** `family name without prefix → value of its first sample` for every family (NaN where it has none). */
export function firstValues(families: Family[], prefix: string): Record<string, number> {
  return Object.fromEntries(families.map((f) => [f.name.replace(prefix, ""), f.samples[0]?.value ?? NaN]));
}

/** `labels → value` of one family, labels without host/region, as `k=v,k=v` sorted keys. */
export function valuesOf(families: Family[], name: string): Map<string, number> {
  const family = families.find((f) => f.name === name);
  const values = new Map<string, number>();
  for (const s of family?.samples ?? []) values.set(labelKey(s.labels), s.value);
  return values;
}

/** The value of the sample whose labels beyond host/region are exactly `labels`. */
export function valueOf(families: Family[], name: string, labels: Labels = {}): number | undefined {
  return valuesOf(families, name).get(labelKey(labels));
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .filter((k) => k !== "host" && k !== "region")
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/** The container whose cgroup (v2, cgroupfs driver layout) the fixtures hold. */
const POD_UID = "3f1c2a7e-58b4-4c0e-9d61-2b8e0c7f4a19";
const CONTAINER_ID = "8c4b1e2f9a7d3c6b5e0f1a2d3c4b5a6978e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5";

/** The container labels (beyond host/region) of a sample of testContainer() without overrides. */
export const TEST_CONTAINER_LABELS: Labels = {
  container_host: "coredns-855c4dd65d-8v5kg",
  container_hostnamespace: "kube-system",
  container_level: "burstable",
  container_name: "coredns",
  container_type: "normal",
};

export function testContainer(overrides: Partial<Container> = {}): Container {
  return {
    id: CONTAINER_ID,
    name: "coredns",
    hostname: "coredns-855c4dd65d-8v5kg",
    namespace: "kube-system",
    qos: "burstable",
    type: "normal",
    cgroupPath: `kubepods/burstable/pod${POD_UID}/${CONTAINER_ID}`,
    initPid: 0,
    netnsInode: 0,
    startedAt: 0,
    podName: "coredns-855c4dd65d-8v5kg",
    podUid: POD_UID,
    labels: {},
    annotations: {},
    ...overrides,
  };
}
