// The RPM as an operator meets it: built by scripts/rpm/build.sh from dist/huatuo-bamai, then installed, upgraded
// (edited configs kept, .rpmnew when the packaged one changed) and erased (stored events kept) with `rpm --root`.
//
// Scriptlets run (no --noscripts): they are part of what ships. Each throwaway root holds a POSIX shell, /dev/null
// and, where a case needs one, a systemctl stand-in that records its arguments; /run/systemd/system in the root
// plays "systemd is running". So the scriptlets' decisions are checked without touching this machine's systemd.
// --nodeps: the roots' rpm databases hold no glibc package to satisfy the executable's requirements.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import {
  appendFileSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { systemConfig } from "../scripts/rpm/system_conf";
import { run } from "./support/bpf_helpers";
import { BINARY, REPO } from "./support/daemon";

const VERSION: string = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version;
const ARCH = process.arch === "arm64" ? "aarch64" : "x86_64";
const CONF = "/etc/huatuo-bamai/huatuo-bamai.conf";
const SYSCONFIG = "/etc/sysconfig/huatuo-bamai";
const STATE = "/var/lib/huatuo-bamai";
const repoFile = (path: string) => readFileSync(join(REPO, path), "utf8");
const REPO_CONFIG = repoFile("huatuo-bamai.conf");
/** Release 3 packages a changed config, as a later version would. */
const CHANGED_CONFIG = `${REPO_CONFIG}\n# changed in release 3\n`;

const isRoot = process.getuid?.() === 0;
const SUITE = isRoot ? "RPM" : "RPM [skipped: needs root: rpm --root chroots to run scriptlets, mknod /dev/null]";

const work = mkdtempSync(join(tmpdir(), "huatuo-rpm-"));
/** The executable all three packages are built from: a snapshot, since dist/ may be rebuilt while this runs. */
const binary = join(work, "huatuo-bamai");
const rpms: Record<number, string> = {};

async function buildRpm(release: number, config?: string): Promise<string> {
  const out = join(work, `out-${release}`);
  const env: Record<string, string> = {
    ...process.env,
    HUATUO_RPM_BINARY: binary,
    HUATUO_RPM_RELEASE: String(release),
    HUATUO_RPM_OUT: out,
  };
  if (config) {
    env.HUATUO_RPM_CONFIG = join(work, `config-${release}.conf`);
    writeFileSync(env.HUATUO_RPM_CONFIG, config);
  }
  const proc = spawn(["bash", join(REPO, "scripts/rpm/build.sh")], { env, stdout: "pipe", stderr: "pipe" });
  const stderr = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`build.sh failed:\n${stderr}`);
  return join(out, `huatuo-bamai-${VERSION}-${release}.${ARCH}.rpm`);
}

/** A root for `rpm --root`: merged /usr, a shell with its libraries, /dev/null, optionally systemctl and "running" systemd. */
function makeRoot(name: string, opts: { systemctl: boolean; systemdRunning: boolean }): string {
  const root = join(work, name);
  for (const dir of ["usr/bin", "usr/lib", "dev", "var/log", "run"]) mkdirSync(join(root, dir), { recursive: true });
  symlinkSync("usr/bin", join(root, "bin"));
  symlinkSync("usr/lib", join(root, "lib"));
  const shell = realpathSync("/bin/sh");
  const libraries = run(["ldd", shell]).stdout.matchAll(/(\/\S+) \(0x/g);
  for (const file of [shell, ...[...libraries].map((m) => m[1]!)]) {
    const target = join(root, file === shell ? "usr/bin/sh" : file);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(realpathSync(file), target);
  }
  run(["chmod", "0755", join(root, "usr/bin/sh")]);
  expect(run(["mknod", "-m", "0666", join(root, "dev/null"), "c", "1", "3"]).code).toBe(0);
  if (opts.systemctl) {
    writeFileSync(join(root, "usr/bin/systemctl"), '#!/bin/sh\necho "$*" >> /var/log/systemctl.log\n', { mode: 0o755 });
  }
  if (opts.systemdRunning) mkdirSync(join(root, "run/systemd/system"), { recursive: true });
  return root;
}

function rpm(root: string, ...args: string[]) {
  const result = run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", ...args]);
  // Debian's rpm warns on every install that alien is the Debian way; that is not the package's doing.
  const stderr = result.stderr.split("\n").filter((l) => l && !l.startsWith("rpm: ")).join("\n");
  return { ...result, stderr };
}

/** systemctl calls the scriptlets made since the last call. */
function systemctlCalls(root: string): string[] {
  const log = join(root, "var/log/systemctl.log");
  if (!existsSync(log)) return [];
  const calls = readFileSync(log, "utf8").split("\n").filter(Boolean);
  rmSync(log);
  return calls;
}

const inRoot = (root: string, path: string) => join(root, path);
const leftovers = (root: string, dir: string) =>
  readdirSync(inRoot(root, dir)).filter((f) => f.endsWith(".rpmnew") || f.endsWith(".rpmsave"));

beforeAll(async () => {
  if (!isRoot) return;
  try {
    linkSync(BINARY, binary);
  } catch {
    copyFileSync(BINARY, binary);
  }
  // Three builds at once: each packs ~110 MB single-threaded.
  [rpms[1], rpms[2], rpms[3]] = await Promise.all([buildRpm(1), buildRpm(2), buildRpm(3, CHANGED_CONFIG)]);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test("build.sh refuses what it cannot package, in one line", () => {
  const build = (env: Record<string, string>) => run(["bash", join(REPO, "scripts/rpm/build.sh")], env);
  const missing = build({ HUATUO_RPM_BINARY: join(work, "absent") });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`rpm: ${join(work, "absent")} is missing: run 'npm run build' first\n`);
  const release = build({ HUATUO_RPM_RELEASE: "1-2" });
  expect(release.code).toBe(1);
  expect(release.stderr).toBe("rpm: HUATUO_RPM_RELEASE '1-2' is not a valid rpm release\n");
});

describe.skipIf(!isRoot)(SUITE, () => {
  test("is huatuo-bamai-<version>-<release>.<arch>.rpm, needing nothing but glibc (<= 2.17) and libgcc_s", () => {
    const info = run(["rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}", rpms[1]!]).stdout;
    expect(info).toBe(`huatuo-bamai ${VERSION} 1 ${ARCH} Apache-2.0`);
    const requires = run(["rpm", "-qp", "--requires", rpms[1]!]).stdout.trim().split("\n");
    const glibc = /^(ld-linux[-\w]*|libc|libm|libdl|libpthread|librt)\.so\.[\d.]+\(/;
    const own = /^(\/bin\/sh|rpmlib\(.*|config\(huatuo-bamai\) = .*)$/;
    const other = requires.filter((r) => !glibc.test(r) && !own.test(r));
    expect(other).toEqual(["libgcc_s.so.1()(64bit)"]);
    const versions = requires.flatMap((r) => [...r.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1])));
    expect(Math.max(...versions)).toBeLessThanOrEqual(17);
  });

  describe("with systemd running", () => {
    let root: string;
    beforeAll(() => {
      root = makeRoot("running", { systemctl: true, systemdRunning: true });
    });

    test("install: every file with its mode, configs marked noreplace, the service neither enabled nor started", () => {
      const result = rpm(root, "-i", "--nodeps", rpms[1]!);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const files = rpm(root, "-q", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME}\n]", "huatuo-bamai");
      expect(files.stdout.trim().split("\n").map((l) => l.replace(/ +/g, " "))).toEqual([
        "/etc/huatuo-bamai drwxr-xr-x root:root",
        `${CONF} cn -rw-r----- root:root`,
        `${SYSCONFIG} cn -rw-r--r-- root:root`,
        "/usr/bin/huatuo-bamai -rwxr-xr-x root:root",
        "/usr/lib/systemd/system-preset/90-huatuo-bamai.preset -rw-r--r-- root:root",
        "/usr/lib/systemd/system/huatuo-bamai.service -rw-r--r-- root:root",
        "/usr/share/doc/huatuo-bamai drwxr-xr-x root:root",
        "/usr/share/doc/huatuo-bamai/CHANGELOG.md d -rw-r--r-- root:root",
        "/usr/share/doc/huatuo-bamai/README.md d -rw-r--r-- root:root",
        "/usr/share/doc/huatuo-bamai/huatuo-bamai-daemonset.yaml d -rw-r--r-- root:root",
        "/usr/share/licenses/huatuo-bamai drwxr-xr-x root:root",
        "/usr/share/licenses/huatuo-bamai/LICENSE l -rw-r--r-- root:root",
        `${STATE} drwxr-x--- root:root`,
        "/var/log/huatuo-bamai drwxr-x--- root:root",
      ]);
      expect(rpm(root, "-qc", "huatuo-bamai").stdout.trim().split("\n")).toEqual([CONF, SYSCONFIG]);
      // On disk as in the package (modes, owners, digests).
      expect(rpm(root, "-V", "--nodeps", "huatuo-bamai")).toMatchObject({ code: 0, stdout: "" });
      expect(statSync(inRoot(root, STATE)).mode & 0o7777).toBe(0o750);

      expect(readFileSync(inRoot(root, "/usr/bin/huatuo-bamai")).equals(readFileSync(binary))).toBe(true);
      expect(readFileSync(inRoot(root, CONF), "utf8")).toBe(systemConfig(REPO_CONFIG));
      expect(readFileSync(inRoot(root, SYSCONFIG), "utf8")).toBe(repoFile("scripts/rpm/huatuo-bamai.sysconfig"));
      expect(readFileSync(inRoot(root, "/usr/lib/systemd/system/huatuo-bamai.service"), "utf8")).toBe(
        repoFile("scripts/rpm/huatuo-bamai.service"),
      );
      expect(run([inRoot(root, "/usr/bin/huatuo-bamai"), "--version", "--version-format", "short"]).stdout.trim()).toBe(
        VERSION,
      );
      // %systemd_post: presets decide (ours disables), then systemd rereads its units. No enable, no start.
      expect(systemctlCalls(root)).toEqual(["--no-reload preset huatuo-bamai.service", "daemon-reload"]);
    });

    test("upgrade: edited configs survive, no .rpmnew when the packaged config is unchanged, a running agent restarts", () => {
      const conf = inRoot(root, CONF);
      const edited = readFileSync(conf, "utf8").replace('# Level = "Info"', 'Level = "Debug"');
      writeFileSync(conf, edited);
      writeFileSync(inRoot(root, SYSCONFIG), "HUATUO_REGION=prod\n");
      mkdirSync(inRoot(root, STATE), { recursive: true });
      appendFileSync(inRoot(root, `${STATE}/oom`), '{"tracer_name":"oom"}\n');

      systemctlCalls(root);
      const result = rpm(root, "-U", "--nodeps", rpms[2]!);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(rpm(root, "-q", "huatuo-bamai").stdout.trim()).toBe(`huatuo-bamai-${VERSION}-2.${ARCH}`);
      expect(readFileSync(conf, "utf8")).toBe(edited);
      expect(readFileSync(inRoot(root, SYSCONFIG), "utf8")).toBe("HUATUO_REGION=prod\n");
      expect(leftovers(root, "/etc/huatuo-bamai")).toEqual([]);
      expect(leftovers(root, "/etc/sysconfig")).toEqual([]);
      // New %post (no preset on upgrade), then the old package's %postun: reload and try-restart.
      expect(systemctlCalls(root)).toEqual(["daemon-reload", "daemon-reload", "try-restart huatuo-bamai.service"]);
    });

    test("upgrade with a changed packaged config: the edit stays, the new default lands in .rpmnew", () => {
      const conf = inRoot(root, CONF);
      const edited = readFileSync(conf, "utf8");
      const result = rpm(root, "-U", "--nodeps", rpms[3]!);
      expect(result.stderr).toContain(`${CONF} created as ${CONF}.rpmnew`);
      expect(result.code).toBe(0);
      expect(readFileSync(conf, "utf8")).toBe(edited);
      expect(readFileSync(`${conf}.rpmnew`, "utf8")).toBe(systemConfig(CHANGED_CONFIG));
      expect(readFileSync(inRoot(root, SYSCONFIG), "utf8")).toBe("HUATUO_REGION=prod\n");
      expect(leftovers(root, "/etc/sysconfig")).toEqual([]);
    });

    test("erase: stops and disables the service, keeps stored events and the edited configs (.rpmsave)", () => {
      systemctlCalls(root);
      const result = rpm(root, "-e", "huatuo-bamai");
      expect(result.code).toBe(0);
      expect(rpm(root, "-q", "huatuo-bamai").code).not.toBe(0);
      expect(systemctlCalls(root)).toEqual(["--no-reload disable --now huatuo-bamai.service", "daemon-reload"]);
      for (const gone of ["/usr/bin/huatuo-bamai", "/usr/lib/systemd/system/huatuo-bamai.service", CONF, SYSCONFIG]) {
        expect(existsSync(inRoot(root, gone))).toBe(false);
      }
      expect(readFileSync(inRoot(root, `${STATE}/oom`), "utf8")).toBe('{"tracer_name":"oom"}\n');
      expect(statSync(inRoot(root, STATE)).mode & 0o7777).toBe(0o750);
      expect(existsSync(inRoot(root, `${CONF}.rpmsave`))).toBe(true);
      expect(readFileSync(inRoot(root, `${SYSCONFIG}.rpmsave`), "utf8")).toBe("HUATUO_REGION=prod\n");
    });
  });

  test("without systemd running (image build): presets applied and disabled on erase, nothing reloaded or stopped", () => {
    const root = makeRoot("offline", { systemctl: true, systemdRunning: false });
    expect(rpm(root, "-i", "--nodeps", rpms[1]!)).toMatchObject({ code: 0, stderr: "" });
    expect(systemctlCalls(root)).toEqual(["--no-reload preset huatuo-bamai.service"]);
    expect(rpm(root, "-e", "huatuo-bamai")).toMatchObject({ code: 0, stderr: "" });
    expect(systemctlCalls(root)).toEqual(["--no-reload disable huatuo-bamai.service"]);
  });

  test("without systemctl at all (container): scriptlets stay silent; an unedited config follows the package", () => {
    const root = makeRoot("bare", { systemctl: false, systemdRunning: false });
    expect(rpm(root, "-i", "--nodeps", rpms[1]!)).toMatchObject({ code: 0, stderr: "" });
    expect(rpm(root, "-U", "--nodeps", rpms[3]!)).toMatchObject({ code: 0, stderr: "" });
    expect(readFileSync(inRoot(root, CONF), "utf8")).toBe(systemConfig(CHANGED_CONFIG));
    expect(leftovers(root, "/etc/huatuo-bamai")).toEqual([]);
    expect(rpm(root, "-e", "huatuo-bamai")).toMatchObject({ code: 0, stderr: "" });
    expect(existsSync(inRoot(root, STATE))).toBe(false);
  });
});
