/**
 * A server the e2e tests run as a child process (code-server, `owp coordinator`): its output is
 * kept for failure reports, start-up waits for the line that says it listens, and stopping
 * escalates to SIGKILL when a signal is not enough.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Servers still running, killed if the test process exits without stopping them (a crash, a timeout). */
const live = new Set<ServerProcess>();
process.once('exit', () => {
  for (const server of live) server.kill();
});

export class ServerProcess {
  readonly label: string;
  private readonly child: ChildProcess;
  private readonly group: boolean;
  private text = '';

  /** `group`: start it in its own process group and signal the whole group (its helpers too). */
  constructor(label: string, command: string, args: string[], options: SpawnOptions & { group?: boolean }) {
    const { group = false, ...spawnOptions } = options;
    this.label = label;
    this.group = group;
    this.child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    const onData = (chunk: Buffer): void => {
      this.text += chunk.toString();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    live.add(this);
    this.child.once('exit', () => live.delete(this));
  }

  /** SIGKILL now, without waiting (for the exit handler). */
  kill(): void {
    this.signal('SIGKILL');
  }

  output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a line of output matching `pattern` (the "listening on" line) and returns the match. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.text);
      if (match) return match;
      if (!this.running) throw new Error(`${this.label} exited before it listened:\n${this.text}`);
      if (Date.now() > deadline) throw new Error(`${this.label} did not listen within ${timeoutMs / 1000} s:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends `signal`; after `graceMs` without an exit, SIGKILL. Resolves once it has exited. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      if (this.group) process.kill(-(this.child.pid as number), signal);
      else this.child.kill(signal);
    } catch {
      // already gone
    }
  }
}
