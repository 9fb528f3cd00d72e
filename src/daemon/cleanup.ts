// A stack of named undo steps: startup pushes one per step, shutdown (or a failed start) runs them in reverse.
import type { Logger } from "../log";

type Undo = () => void | Promise<void>;

export class CleanupStack {
  private readonly steps: Array<{ name: string; undo: Undo }> = [];

  push(name: string, undo: Undo): void {
    this.steps.push({ name, undo });
  }

  /** Undo everything in reverse order within `deadlineMs`; a step that fails or hangs never blocks the rest forever. */
  async unwind(log: Logger, deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (this.steps.length > 0) {
      const { name, undo } = this.steps.pop()!;
      const remaining = Math.max(deadline - Date.now(), 0);
      try {
        const finished = await Promise.race([Promise.resolve(undo()).then(() => true), Bun.sleep(remaining).then(() => false)]);
        if (!finished) log.warn("shutdown step timed out", { step: name });
      } catch (err) {
        log.warn("shutdown step failed", { step: name, err });
      }
    }
  }
}
