// systemd readiness: sd_notify datagrams reach a bound unix socket (path and abstract), and the built daemon sends
// READY=1 only once it serves HTTP, which is what the unit's Type=notify relies on.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DataType, load, open } from "ffi-rs";
import { sdNotify, sockaddrUn } from "../src/daemon/notify";
import { BINARY, freePort, workDir } from "./support/daemon";

const { I32, I64, U8Array } = DataType;
const MSG_DONTWAIT = 0x40;
open({ library: "libc_test", path: "libc.so.6" });

function libc(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[]): number {
  return load({ library: "libc_test", funcName, retType, paramsType, paramsValue }) as number;
}

/** A bound AF_UNIX datagram socket standing in for systemd's notification socket. */
class Receiver {
  private constructor(private readonly fd: number) {}

  static bind(address: string): Receiver {
    const fd = libc("socket", I32, [I32, I32, I32], [1, 2, 0]);
    const addr = sockaddrUn(address);
    if (fd < 0 || libc("bind", I32, [I32, U8Array, I32], [fd, addr, addr.length]) !== 0) {
      throw new Error(`cannot bind ${address}`);
    }
    return new Receiver(fd);
  }

  /** The next datagram, or undefined when none is queued (never blocks: the test's event loop keeps running). */
  poll(): string | undefined {
    const buf = Buffer.alloc(4096);
    const n = libc("recv", I64, [I32, U8Array, I64, I32], [this.fd, buf, buf.length, MSG_DONTWAIT]);
    return n < 0 ? undefined : buf.toString("utf8", 0, n);
  }

  close(): void {
    libc("close", I32, [I32], [this.fd]);
  }
}

const dir = workDir("huatuo-notify-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sdNotify", () => {
  test("encodes path and abstract addresses as the kernel expects", () => {
    expect([...sockaddrUn("/run/n")]).toEqual([1, 0, ...Buffer.from("/run/n"), 0]);
    expect([...sockaddrUn("@x")]).toEqual([1, 0, 0, ...Buffer.from("x")]);
    expect(() => sockaddrUn("vsock:2:1")).toThrow("unsupported NOTIFY_SOCKET");
    expect(() => sockaddrUn("/" + "a".repeat(107))).toThrow("longer than 108 bytes");
  });

  test("does nothing outside a service manager", () => {
    expect(sdNotify("READY=1", undefined)).toBe(false);
    expect(sdNotify("READY=1", "")).toBe(false);
  });

  test("delivers to a path socket and to an abstract socket", () => {
    for (const address of [join(dir, "notify.sock"), `@huatuo-notify-test-${process.pid}`]) {
      const receiver = Receiver.bind(address);
      try {
        expect(sdNotify("READY=1\nSTATUS=serving", address)).toBe(true);
        expect(receiver.poll()).toBe("READY=1\nSTATUS=serving");
      } finally {
        receiver.close();
      }
    }
  });

  test("a socket nobody listens on is a one-line error", () => {
    expect(() => sdNotify("READY=1", join(dir, "missing.sock"))).toThrow(/^notify .*missing\.sock: sendto: /);
  });
});

describe("the daemon", () => {
  test("sends READY=1 once, when /healthz already answers", async () => {
    const address = join(dir, "daemon-notify.sock");
    const receiver = Receiver.bind(address);
    const port = freePort();
    const config = join(dir, "huatuo-bamai.conf");
    writeFileSync(config, `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n`);
    const proc = spawn(
      [BINARY, "run", "--config", config, "--region", "test", "--pid-file", join(dir, "pid"), "--disable-kubelet",
        "--disable-storage"],
      { cwd: dir, env: { ...process.env, NOTIFY_SOCKET: address }, stdout: "pipe", stderr: "pipe" },
    );
    try {
      let message: string | undefined;
      const deadline = Date.now() + 20_000;
      while (message === undefined && Date.now() < deadline && proc.exitCode === null) {
        await Bun.sleep(20);
        message = receiver.poll();
      }
      expect(message).toBe("READY=1\nSTATUS=serving");
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(204);
      await Bun.sleep(200);
      expect(receiver.poll()).toBeUndefined();
    } finally {
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      receiver.close();
    }
    expect(await new Response(proc.stdout).text()).toContain("notified systemd: ready");
  }, 40_000);
});
