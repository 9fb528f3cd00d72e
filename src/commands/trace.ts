// `huatuo-bamai trace <name>`: one-shot capture of an autotracing detector, without a running daemon.
import { Command } from "commander";

export const TRACEABLE = ["cpusys", "cpuidle", "dload", "iotracing", "memburst"] as const;

export function traceCommand(onExit: (code: number) => void): Command {
  return new Command("trace")
    .description(`capture once, now: ${TRACEABLE.join(", ")}`)
    .argument("[name]", "what to trace")
    .option("--list", "list what can be traced")
    .option("--duration <seconds>", "how long to capture", "10")
    .option("--container <id>", "container to trace (cpuidle)")
    .option("--output <format>", "table or json", "table")
    .option("--save", "store the capture as tracer_type manual")
    .action((name: string | undefined, opts: { list?: boolean }) => {
      if (opts.list || !name) {
        process.stdout.write(TRACEABLE.join("\n") + "\n");
        return onExit(0);
      }
      process.stderr.write(`huatuo-bamai: trace ${name}: one-shot tracing is not in this build yet\n`);
      onExit(2);
    });
}
