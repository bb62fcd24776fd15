/** Counts completions inside a measurement window the runner opens and closes (`measure` with on: true / false). */
export class WindowCounter {
  private completed = 0;
  private measuring = false;

  /** Call on every completion; counted only while the window is open. */
  tick(): void {
    if (this.measuring) this.completed += 1;
  }

  /** The `measure` command: opening resets the count, closing returns it. */
  measure(args: Record<string, unknown>): { completed?: number } {
    if (args.on) {
      this.completed = 0;
      this.measuring = true;
      return {};
    }
    this.measuring = false;
    return { completed: this.completed };
  }
}
