// `huatuo-bamai events list` and `events tail` as a person uses them: in a real terminal (tmux), against a running
// agent that records a real packet drop, read from the screen with capture-pane.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { BINARY } from "./support/daemon";
import { startNetDaemon, storedDocs, until, type NetDaemon } from "./support/events_net_support";

const SESSION = `huatuo-events-${process.pid}`;
const canRun = process.getuid?.() === 0 && Bun.which("tmux") !== null;

function tmux(...args: string[]): string {
  return spawnSync(["tmux", ...args]).stdout.toString();
}

/** Printed after a command; split in the typed line so the echo of the command itself never matches. */
const EXIT_MARK = `; echo "EX""IT=$?"`;

function screen(window: string): string {
  return tmux("capture-pane", "-p", "-t", `${SESSION}:${window}`, "-S", "-100");
}

/** UDP to a closed loopback port: the kernel drops it with NO_SOCKET, and dropwatch records it. */
function dropPacket(port: number): void {
  spawnSync(["bash", "-c", `echo huatuo > /dev/udp/127.0.0.1/${port}`]);
}

describe.skipIf(!canRun)("events in a terminal (skipped unless root with tmux)", () => {
  let agent: NetDaemon;

  beforeAll(async () => {
    agent = await startNetDaemon();
    tmux("kill-session", "-t", SESSION);
    tmux("new-session", "-d", "-s", SESSION, "-x", "200", "-y", "50", "-n", "tail", "bash --norc --noprofile");
    tmux("new-window", "-t", SESSION, "-n", "list", "bash --norc --noprofile");
  });
  afterAll(async () => {
    tmux("kill-session", "-t", SESSION);
    await agent.daemon.stop();
  });

  test("events tail prints one line per new event and exits 0 on Ctrl-C", async () => {
    const server = `http://127.0.0.1:${agent.daemon.port}`;
    tmux("send-keys", "-t", `${SESSION}:tail`, `${BINARY} events tail --server ${server} --tracer '^dropwatch$'${EXIT_MARK}`, "Enter");
    const port = 40000 + (process.pid % 20000);
    await until(
      () => {
        dropPacket(port);
        return screen("tail").includes(`:${port}`);
      },
      15_000,
      "the drop on the tail screen",
    );
    expect(screen("tail")).toMatch(/dropwatch/);
    tmux("send-keys", "-t", `${SESSION}:tail`, "C-c");
    await until(() => screen("tail").includes("EXIT="), 5_000, "tail to exit");
    expect(screen("tail")).toContain("EXIT=0");
  });

  test("events list shows the stored drop as a table", async () => {
    await until(() => storedDocs(agent.store, "dropwatch").length > 0, 10_000, "a stored drop");
    tmux("send-keys", "-t", `${SESSION}:list`, `${BINARY} events list --path ${agent.store} --tracer dropwatch${EXIT_MARK}`, "Enter");
    await until(() => screen("list").includes("EXIT="), 10_000, "list to finish");
    const text = screen("list");
    expect(text).toContain("EXIT=0");
    expect(text).toMatch(/tracer_name|TRACER|tracer/i);
    expect(text).toMatch(/dropwatch/);
    expect(text).toMatch(/[┌─│]|\+-/); // a drawn table, not raw JSON
  });
});
