// The executable alone is the install: it runs with the system's libbpf, libelf, zlib and zstd hidden (a private mount
// namespace), and chrooted into a root holding nothing but glibc. In both: --version, run --dry-run, and a real daemon
// scraped from the host over loopback, its eBPF tracers running on the native layer it extracted itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import {
  copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { run } from "./support/bpf_helpers";
import { BINARY, REPO, freePort, scrape, waitReady, type DaemonHandle } from "./support/daemon";

const isRoot = process.getuid?.() === 0;
const SKIP_REASON = "[skipped: needs root: mount namespaces, bind mounts, chroot, BPF]";
const VERSION: string = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version;

/** What the executable links (loader, libc, libm, libpthread, libdl), resolved on this host. */
const LINKED = [...run(["ldd", BINARY]).stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
const LIBC_DIR = dirname(LINKED.find((path) => basename(path) === "libc.so.6") ?? "/lib/x86_64-linux-gnu/libc.so.6");
/**
 * The glibc-only root: the executable's libraries, librt (the FFI addon Bun extracts links it) and libgcc_s (the
 * addon is Rust and unwinds through it; glibc itself depends on it, so every glibc system has it).
 */
const ROOT_LIBRARIES = [...LINKED, join(LIBC_DIR, "librt.so.1"), join(LIBC_DIR, "libgcc_s.so.1")];
const ALLOWED = new Set(["linux-vdso.so.1", ...ROOT_LIBRARIES.map((path) => basename(path))]);
/** The real files behind the system's libbpf, libelf, zlib and zstd: the native layer must carry its own. */
const SYSTEM_LIBRARIES = [
  ...new Set(
    readdirSync(LIBC_DIR)
      .filter((f) => /^(libbpf|libelf|libz|libzstd)[-.].*so/.test(f))
      .map((f) => realpathSync(join(LIBC_DIR, f))),
  ),
];
const HIDDEN_PATTERN = /\/(libbpf|libelf|libz|libzstd)[-.][^/]*$/;

const work = mkdtempSync(join(tmpdir(), "huatuo-selfcontained-"));

interface Setting {
  /** Shell commands run in the new mount namespace before the executable starts. */
  setup: string[];
  /** How to invoke the executable there. */
  command: string[];
  /** Paths as the executable sees them. */
  config: string;
  pidFile: string;
  cwd: string;
  env?: Record<string, string>;
}

/** argv in a private mount namespace: mounts made by `setup` never reach the host and vanish with the process. */
function namespaced(setting: Setting, args: string[]): string[] {
  // "$0" "$@" hands the command over unquoted-safe; exec keeps the pid, so signals reach the daemon itself.
  const script = [...setting.setup, `cd ${setting.cwd}`, 'exec "$0" "$@"'].join(" && ");
  return ["unshare", "-m", "sh", "-c", script, ...setting.command, ...args];
}

function runArgs(setting: Setting, extra: string[]): string[] {
  return ["run", "--config", setting.config, "--region", "ship", "--pid-file", setting.pidFile, "--disable-kubelet",
    ...extra];
}

async function runOnce(setting: Setting, args: string[]) {
  const proc = spawn(namespaced(setting, args), { env: { ...process.env, ...setting.env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: stdout + stderr };
}

async function startDaemon(setting: Setting, port: number): Promise<DaemonHandle> {
  const proc = spawn(namespaced(setting, runArgs(setting, [])), {
    env: { ...process.env, ...setting.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  const handle: DaemonHandle = {
    proc,
    port,
    dir: setting.cwd,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    output: async () => (await stdout) + (await stderr),
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
  await waitReady(handle, 30_000);
  return handle;
}

function writeConfig(path: string, port: number, storage: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n[Storage.LocalFile]\nPath = "${storage}"\n`);
}

/** The checks both settings pass: --version, a clean dry run, a scraped daemon with its eBPF tracers running. */
function checks(setting: () => Setting, port: number) {
  test("--version", async () => {
    const result = await runOnce(setting(), ["--version"]);
    expect(result.output).toContain(`version: ${VERSION}\n`);
    expect(result.code).toBe(0);
  });

  test("run --dry-run starts everything and stops cleanly", async () => {
    const result = await runOnce(setting(), runArgs(setting(), ["--dry-run"]));
    expect(result.output).toContain("msg=\"huatuo-bamai started\"");
    expect(result.output).toContain("msg=stopped");
    expect(result.output).not.toContain("status=failed");
    expect(result.output).toContain("tracer=runqlat kind=metric status=running");
    expect(result.code).toBe(0);
  }, 60_000);

  test("a real daemon: scraped from the host, eBPF tracers running, no system BPF/ELF/compression library mapped", async () => {
    const daemon = await startDaemon(setting(), port);
    try {
      const { data } = (await (await fetch(daemon.url("/tracers"))).json()) as {
        data: Array<{ name: string; status: string }>;
      };
      expect(data.filter((t) => t.status === "failed")).toEqual([]);
      const status = new Map(data.map((t) => [t.name, t.status]));
      for (const name of ["runqlat", "softirq", "dropwatch", "oom"]) expect({ name, status: status.get(name) }).toEqual({ name, status: "running" });
      const text = await scrape(daemon);
      expect(text).toMatch(/^huatuo_bamai_tracer_up\{[^}]*tracer="runqlat"[^}]*\} 1$/m);
      expect(text).toMatch(/^huatuo_bamai_cpu_util_total\{/m);
      expect(text).toContain('region="ship"');
      const mapped = readFileSync(`/proc/${daemon.proc.pid}/maps`, "utf8").split("\n").map((l) => l.split(/\s+/)[5] ?? "");
      expect(mapped.filter((path) => HIDDEN_PATTERN.test(path))).toEqual([]);
      expect(mapped.some((path) => path.endsWith("/libhuatuo_bpf.so"))).toBe(true);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  }, 60_000);
}

afterAll(() => {
  // Every mount lived in a namespace that is gone; refuse to delete through one that is somehow still there.
  if (!existsSync(join(work, "root/proc/self"))) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!isRoot)(`with the system libbpf, libelf, zlib and zstd hidden${isRoot ? "" : ` ${SKIP_REASON}`}`, () => {
  const port = freePort();
  const dir = join(work, "hidden");
  const setting = (): Setting => ({
    setup: SYSTEM_LIBRARIES.map((path) => `mount --bind /dev/null ${path}`),
    command: [BINARY],
    config: join(dir, "huatuo-bamai.conf"),
    pidFile: join(dir, "huatuo-bamai.pid"),
    cwd: dir,
    // A fresh extraction: the library must load here, not be an earlier copy.
    env: { HUATUO_BPF_LIB_DIR: join(dir, "lib") },
  });
  beforeAll(() => writeConfig(join(dir, "huatuo-bamai.conf"), port, join(dir, "events")));

  test("the hidden files are the real libraries, and they are empty in the namespace", async () => {
    expect(SYSTEM_LIBRARIES.map((path) => basename(path).replace(/[-.].*/, "")).sort()).toEqual(
      ["libbpf", "libelf", "libz", "libzstd"],
    );
    const sizes = await runOnce({ ...setting(), command: ["stat", "-L", "-c", "%s"] }, SYSTEM_LIBRARIES);
    expect(sizes.output.trim().split("\n")).toEqual(SYSTEM_LIBRARIES.map(() => "0"));
  });

  checks(setting, port);
});

describe.skipIf(!isRoot)(`chrooted into a root with nothing but glibc${isRoot ? "" : ` ${SKIP_REASON}`}`, () => {
  const port = freePort();
  const root = join(work, "root");
  const setting = (): Setting => ({
    setup: [
      // The executable is bind-mounted, not copied: 110 MB per run for nothing.
      `mount --bind ${BINARY} ${root}/usr/bin/huatuo-bamai`,
      `mount -t proc proc ${root}/proc`,
      `mount --rbind /sys ${root}/sys`,
      `mount --rbind /dev ${root}/dev`,
    ],
    command: ["chroot", root, "/usr/bin/huatuo-bamai"],
    config: "/etc/huatuo-bamai/huatuo-bamai.conf",
    pidFile: "/run/huatuo-bamai.pid",
    cwd: root,
  });

  beforeAll(() => {
    // /tmp and /run are plain directories of the root, so the host sees what the executable extracts there.
    for (const d of ["proc", "sys", "dev", "tmp", "run", "usr/bin", "var/lib/huatuo-bamai"]) {
      mkdirSync(join(root, d), { recursive: true });
    }
    run(["chmod", "1777", join(root, "tmp")]);
    for (const path of ROOT_LIBRARIES) {
      mkdirSync(join(root, dirname(path)), { recursive: true });
      copyFileSync(realpathSync(path), join(root, path));
    }
    writeFileSync(join(root, "usr/bin/huatuo-bamai"), "");
    writeConfig(join(root, "etc/huatuo-bamai/huatuo-bamai.conf"), port, "/var/lib/huatuo-bamai");
  });

  test("the root holds glibc (and libgcc_s) only: no libbpf, libelf, zlib, zstd, no shell", () => {
    const files = run(["find", root, "-type", "f"]).stdout.trim().split("\n").map((f) => f.slice(root.length));
    const libraries = files.filter((f) => f.includes(".so"));
    expect(libraries.map((f) => basename(f)).sort()).toEqual([...ALLOWED].filter((n) => n !== "linux-vdso.so.1").sort());
    expect(files.filter((f) => !f.includes(".so")).sort()).toEqual([
      "/etc/huatuo-bamai/huatuo-bamai.conf",
      "/usr/bin/huatuo-bamai",
    ]);
  });

  checks(setting, port);

  test("what the executable extracted links only glibc and libgcc_s", () => {
    // tests/bpf_native.test.ts checks the native library as built; these are the files as extracted and run.
    const addons = readdirSync(join(root, "tmp")).filter((f) => f.endsWith(".node")).map((f) => join(root, "tmp", f));
    const libDir = join(root, "run/huatuo-bamai/lib");
    const natives = readdirSync(libDir).map((hash) => join(libDir, hash, "libhuatuo_bpf.so"));
    expect(addons.length).toBeGreaterThan(0);
    expect(natives).toHaveLength(1);
    for (const file of [...addons, ...natives]) {
      const needed = run(["ldd", file]).stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[0]!.replace(/^.*\//, ""));
      expect({ file: basename(file), extra: needed.filter((lib) => !ALLOWED.has(lib)) }).toEqual({
        file: basename(file),
        extra: [],
      });
    }
  });
});
