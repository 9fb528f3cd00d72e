// The command line from the built binary: version output, and one-line errors with exit code 2 for bad input.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary, workDir } from "./support/daemon";

function expectOneLineError(result: { code: number; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

function configFile(text: string): string {
  const path = join(workDir(), "bad.conf");
  writeFileSync(path, text);
  return path;
}

describe("version", () => {
  test("text and json", async () => {
    const text = await runBinary(["--version"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^name: huatuo-bamai$/m);
    const json = await runBinary(["--version", "--version-format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: "huatuo-bamai" });
  });

  test("unknown version format", async () => {
    expectOneLineError(await runBinary(["--version", "--version-format", "yaml"]), /--version-format/);
  });
});

describe("run: bad input exits 2 with one line", () => {
  test("unknown flag, with a suggestion", async () => {
    expectOneLineError(await runBinary(["run", "--regio", "x"]), /unknown option '--regio'[\s\S]*--region/);
  });

  test("positional argument", async () => {
    expectOneLineError(await runBinary(["run", "--region", "x", "extra"]), /too many arguments|unexpected/);
  });

  test("missing --region", async () => {
    expectOneLineError(await runBinary(["run"]), /required option '--region/);
  });

  test("missing config file", async () => {
    expectOneLineError(await runBinary(["run", "--region", "x", "--config", "/nonexistent/h.conf"]), /h\.conf/);
  });

  test("TOML syntax error names the line", async () => {
    const path = configFile('[Log]\nLevel = "Info"\nFile = \n');
    expectOneLineError(await runBinary(["run", "--region", "x", "--config", path]), /bad\.conf:3/);
  });

  test("unknown key names the key and line", async () => {
    const path = configFile('[Storage.LocalFile]\nPath = "x"\nRotationSizeMiB = 3\n');
    expectOneLineError(
      await runBinary(["run", "--region", "x", "--config", path]),
      /bad\.conf:3.*Storage\.LocalFile\.RotationSizeMiB/,
    );
  });

  test("wrong type", async () => {
    const path = configFile('[EventsWatch]\nMaxClients = "many"\n');
    expectOneLineError(await runBinary(["run", "--region", "x", "--config", path]), /EventsWatch\.MaxClients/);
  });

  test("out of range", async () => {
    const path = configFile("[AutoTracing.CPUSys]\nSysThreshold = 140\n");
    expectOneLineError(await runBinary(["run", "--region", "x", "--config", path]), /SysThreshold.*140/);
  });

  test("bad regex", async () => {
    const path = configFile('[MetricCollector.NetdevStats]\nDeviceExcluded = "(eth"\n');
    expectOneLineError(await runBinary(["run", "--region", "x", "--config", path]), /DeviceExcluded/);
  });
});

describe("subcommands exist with help", () => {
  test("trace --list", async () => {
    const result = await runBinary(["trace", "--list"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("cpusys");
  });

  test("events --help", async () => {
    const result = await runBinary(["events", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("tail");
  });
});
