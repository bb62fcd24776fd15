/**
 * Child processes of the benchmark: every load generator, peer worker and the coordinator under
 * test runs in its own process and talks to the runner over Node's IPC channel (request/reply by
 * id). Every child is registered so the runner can end them all, whatever happens.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface ChildOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  execArgv?: string[];
  env?: Record<string, string>;
  /** Run TypeScript through tsx, or (default) a plain .mjs bundle. */
  typescript?: boolean;
}

const live = new Set<ChildProcess>();

export class Child {
  readonly process: ChildProcess;
  readonly name: string;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(message: Record<string, unknown>) => void> = [];
  readonly exited: Promise<number | null>;

  constructor(name: string, script: string, options: ChildOptions = {}) {
    this.name = name;
    const execArgv = [...(options.typescript ? ['--import', 'tsx'] : []), ...(options.execArgv ?? [])];
    this.process = fork(script, [], {
      execArgv,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(this.process);
    // A send racing the child's exit surfaces here; the pending request is rejected by 'exit'.
    this.process.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        live.delete(this.process);
        for (const p of this.pending.values()) p.reject(new Error(`${name} exited (code ${code}) before answering`));
        this.pending.clear();
        resolve(code);
      });
    });
    this.process.on('message', (raw) => {
      const message = raw as Record<string, unknown>;
      if (typeof message.reply === 'number') {
        const p = this.pending.get(message.reply);
        this.pending.delete(message.reply);
        if (message.error) p?.reject(new Error(`${name}: ${String(message.error)}`));
        else p?.resolve(message.data);
        return;
      }
      for (const l of this.listeners) l(message);
    });
  }

  /** Sends a command and resolves with the child's answer. */
  request<T = unknown>(command: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++;
    if (!this.alive()) return Promise.reject(new Error(`${this.name} is not running (${command} not sent)`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ id, command, args });
    });
  }

  /** Messages the child sends on its own (not replies). */
  onMessage(listener: (message: Record<string, unknown>) => void): void {
    this.listeners.push(listener);
  }

  /** Waits for a message of a given type. */
  next(type: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} sent no ${type} within ${timeoutMs} ms`)), timeoutMs);
      const listener = (m: Record<string, unknown>): void => {
        if (m.type !== type) return;
        clearTimeout(timer);
        this.listeners.splice(this.listeners.indexOf(listener), 1);
        resolve(m);
      };
      this.listeners.push(listener);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code ${code}) before sending ${type}`));
      });
    });
  }

  alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null && this.process.connected;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
  }

  /** Asks for a clean stop, then kills after a grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Registers a process the runner started otherwise (a peer's server) so it is ended with the rest. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Kills every child still running (on error or interrupt). */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Inside a child: answers the runner's requests with `handlers[command](args)`. */
export function serveParent(handlers: Record<string, (args: Record<string, unknown>) => unknown>): void {
  process.on('message', (raw) => {
    const { id, command, args } = raw as { id: number; command: string; args: Record<string, unknown> };
    const handler = handlers[command];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown command ${command}`);
        const data = await handler(args);
        process.send?.({ reply: id, data });
      } catch (error) {
        process.send?.({ reply: id, error: (error as Error).stack ?? String(error) });
      }
    })();
  });
  // The runner going away ends the child: no load generator outlives the benchmark.
  process.on('disconnect', () => process.exit(0));
}
