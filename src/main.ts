// Entry point: the commander program; the only place that calls process.exit.
import { Command, CommanderError } from "commander";
import { eventsCommand } from "./commands/events";
import { runCommand } from "./commands/run";
import { traceCommand } from "./commands/trace";
import { versionInfo, versionText } from "./version";

function exit(code: number): never {
  process.exit(code);
}

function printVersion(format: string): number {
  const info = versionInfo();
  if (format === "json") process.stdout.write(JSON.stringify(info) + "\n");
  else if (format === "short") process.stdout.write(info.version + "\n");
  else if (format === "text") process.stdout.write(versionText(info) + "\n");
  else {
    process.stderr.write(`huatuo-bamai: --version-format: want text, json or short, got ${JSON.stringify(format)}\n`);
    return 2;
  }
  return 0;
}

function buildProgram(): Command {
  const program = new Command("huatuo-bamai")
    .description("Linux kernel observability agent: eBPF metrics, kernel events, autotracing, live event stream")
    .option("-v, --version", "print version information")
    .option("--version-format <format>", "text, json or short", "text")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .action((opts: { version?: boolean; versionFormat: string }) => {
      if (opts.version) exit(printVersion(opts.versionFormat));
      program.outputHelp();
      exit(0);
    });
  for (const sub of [runCommand(exit), traceCommand(exit), eventsCommand(exit)]) {
    program.addCommand(sub.exitOverride().showSuggestionAfterError(true));
  }
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`huatuo-bamai: ${(err as Error).message}\n`);
  exit(1);
}
