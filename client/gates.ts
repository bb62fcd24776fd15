/**
 * Runs a repo contract's gates (setup, tests, lint) in a checkout and turns each into the gate
 * evidence a `pr_opened` report carries. Commands run through the shell, as the contract writes
 * them, in their own process group so a timeout stops the whole tree. Output is streamed to a
 * callback (for a live status line or an output channel) and its tail becomes the summary.
 */
import { spawn } from 'node:child_process';
import type { GateEvidence } from '../protocol/model.ts';
import { childEnv } from './child-env.ts';
import type { RepoContract } from './contract.ts';

export const DEFAULT_GATE_TIMEOUT_MS = 10 * 60_000;
const SUMMARY_MAX_CHARS = 4000;
const COMMAND_MAX_CHARS = 2000;
const OUTPUT_TAIL_CHARS = 64 * 1024;

export type GateName = 'setup' | 'tests' | 'lint';

export interface GateRunOptions {
  repoDir: string;
  contract: RepoContract;
  /** Per gate (all of its commands together). Default 10 minutes. */
  timeoutMs?: number;
  /** Set on top of the allow-listed environment (client/child-env.ts); never the volunteer's whole one. */
  env?: NodeJS.ProcessEnv;
  /** Variables of the volunteer's environment to pass besides the allow-list (owp.passEnv). */
  passEnv?: readonly string[];
  signal?: AbortSignal;
  /** Every chunk of stdout/stderr as it arrives. */
  onOutput?: (gate: string, chunk: string) => void;
  onGateStart?: (gate: string, commands: string[]) => void;
  onGateEnd?: (evidence: GateEvidence) => void;
  /**
   * The volunteer confirmed the contract's PR checklist. true adds a passing `checklist` gate;
   * false adds a failing one when the contract requires it; undefined leaves it out.
   */
  checklistConfirmed?: boolean;
}

export interface CommandResult {
  exitCode: number;
  /** Set when the command was stopped (timeout or abort) rather than exiting on its own. */
  stopped?: 'timeout' | 'aborted';
  output: string;
  durationMs: number;
}

/** Runs one shell command in its own process group; never rejects. */
export function runCommand(command: string, options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv; passEnv?: readonly string[]; signal?: AbortSignal; onOutput?: (chunk: string) => void }): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let output = '';
    let stopped: CommandResult['stopped'];
    const child = spawn(command, {
      cwd: options.cwd,
      shell: true,
      detached: process.platform !== 'win32',
      // The branch's code runs here (written by an AI tool reading a stranger's issue): an
      // allow-listed environment, no tokens (client/child-env.ts).
      env: childEnv(process.env, { ...(options.passEnv ? { pass: options.passEnv } : {}), set: { CI: process.env.CI ?? '1', ...(options.env as Record<string, string> | undefined) } }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (data: Buffer): void => {
      const chunk = data.toString('utf8');
      output = (output + chunk).slice(-OUTPUT_TAIL_CHARS);
      options.onOutput?.(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (stopped || child.exitCode !== null) return;
      stopped = why;
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = (): void => stop('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) stop('aborted');
    const finish = (exitCode: number, extra = ''): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode, output: output + extra, durationMs: Date.now() - started, ...(stopped ? { stopped } : {}) });
    };
    child.on('error', (error) => finish(127, `\n${error.message}`));
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 + (signalNumber(signal) ?? 9) : 1)));
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}

function tail(text: string, max: number): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-(max - 1))}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Runs one gate's commands in order, stopping at the first failure. */
export async function runGate(name: string, commands: string[], options: GateRunOptions): Promise<GateEvidence> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  options.onGateStart?.(name, commands);
  let output = '';
  let durationMs = 0;
  let exitCode = 0;
  let failure: string | undefined;
  for (const command of commands) {
    const result = await runCommand(command, {
      cwd: options.repoDir,
      timeoutMs: Math.max(1, deadline - Date.now()),
      ...(options.env ? { env: options.env } : {}),
      ...(options.passEnv ? { passEnv: options.passEnv } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onOutput: (chunk) => options.onOutput?.(name, chunk),
    });
    output += result.output;
    durationMs += result.durationMs;
    exitCode = result.exitCode;
    if (result.stopped === 'timeout') failure = `\`${command}\` timed out after ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`;
    else if (result.stopped === 'aborted') failure = `\`${command}\` was stopped`;
    else if (result.exitCode !== 0) failure = `\`${command}\` exited with code ${result.exitCode}`;
    if (failure) break;
  }
  const evidence: GateEvidence = {
    name,
    passed: failure === undefined,
    command: clip(commands.join(' && '), COMMAND_MAX_CHARS),
    exit_code: exitCode,
    duration_ms: durationMs,
    summary: tail(failure ? `${failure}\n${output}` : output || 'passed (no output)', SUMMARY_MAX_CHARS),
  };
  options.onGateEnd?.(evidence);
  return evidence;
}

/**
 * Runs setup, then tests and lint, and returns one evidence item per gate. A gate the contract
 * has no commands for is left out, unless the contract requires it: then it is reported as not
 * passed, so the coordinator refuses the PR instead of trusting an empty gate. When setup fails,
 * the later gates are reported as not run.
 */
export async function runGates(options: GateRunOptions): Promise<GateEvidence[]> {
  const { contract } = options;
  const required = new Set(contract.gates);
  const plan: Array<[GateName, string[]]> = [
    ['setup', contract.setup],
    ['tests', contract.test],
    ['lint', contract.lint],
  ];
  const evidence: GateEvidence[] = [];
  let setupFailed = false;
  for (const [name, commands] of plan) {
    if (commands.length === 0) {
      if (required.has(name)) {
        const missing: GateEvidence = { name, passed: false, summary: `The contract requires the "${name}" gate but lists no command for it; add one to .owp.yml.` };
        options.onGateEnd?.(missing);
        evidence.push(missing);
      }
      continue;
    }
    if (setupFailed || options.signal?.aborted) {
      const skipped: GateEvidence = { name, passed: false, command: clip(commands.join(' && '), COMMAND_MAX_CHARS), summary: options.signal?.aborted ? 'not run: stopped' : 'not run: setup failed' };
      options.onGateEnd?.(skipped);
      evidence.push(skipped);
      continue;
    }
    const result = await runGate(name, commands, options);
    evidence.push(result);
    if (name === 'setup' && !result.passed) setupFailed = true;
  }
  const checklist = checklistGate(contract, options.checklistConfirmed);
  if (checklist) {
    options.onGateEnd?.(checklist);
    evidence.push(checklist);
  }
  return evidence;
}

/** The checklist gate: the volunteer's confirmation of the contract's PR checklist. */
export function checklistGate(contract: RepoContract, confirmed: boolean | undefined): GateEvidence | undefined {
  if (confirmed === undefined) return undefined;
  if (!confirmed && !contract.gates.includes('checklist')) return undefined;
  const items = contract.pr.checklist.map((item) => `- [${confirmed ? 'x' : ' '}] ${item}`).join('\n');
  return {
    name: 'checklist',
    passed: confirmed,
    summary: clip(`${confirmed ? 'Confirmed by the volunteer' : 'Not confirmed'}:\n${items || '(the contract has no checklist items)'}`, SUMMARY_MAX_CHARS),
  };
}

/** The gates a repo requires that this evidence does not show as passed. */
export function missingGates(evidence: GateEvidence[], required: string[]): string[] {
  return required.filter((name) => !evidence.some((e) => e.name === name && e.passed));
}
