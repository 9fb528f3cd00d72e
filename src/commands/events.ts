// `huatuo-bamai events`: read stored events (list, show) and follow a running agent's watch stream (tail).
import { Command } from "commander";

export function eventsCommand(onExit: (code: number) => void): Command {
  const events = new Command("events").description("dump local events, or follow the live watch stream");
  for (const [name, description] of [
    ["list", "list stored events (local files, including rotated ones)"],
    ["show", "print one whole stored record by tracer_id"],
    ["tail", "follow a running agent's /v1/events/watch stream"],
  ] as const) {
    events
      .command(name)
      .description(description)
      .allowUnknownOption(false)
      .action(() => {
        process.stderr.write(`huatuo-bamai: events ${name}: not in this build yet\n`);
        onExit(2);
      });
  }
  return events;
}
