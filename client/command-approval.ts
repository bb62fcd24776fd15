/**
 * A repository's commands (its contract's setup, test and lint) are shown to the volunteer before
 * they first run on their machine, and again whenever they change: the volunteer approves a hash of
 * exactly these commands, remembered per repository. The CLI keeps approvals in its worker state,
 * the extension in its global state; both use this to decide and to show.
 */
import { createHash } from 'node:crypto';
import { visibleLine } from '../protocol/untrusted-text.ts';
import type { RepoContract } from './contract.ts';

/** At most this many approved hashes are kept per repository (older ones must be approved again). */
const KEPT_PER_REPO = 20;

export type Approvals = Record<string, string[]>;

/** A short hash of the commands, in order, per gate. */
export function commandsHash(contract: Pick<RepoContract, 'setup' | 'test' | 'lint'>): string {
  return createHash('sha256').update(JSON.stringify({ setup: contract.setup, test: contract.test, lint: contract.lint })).digest('hex').slice(0, 16);
}

/** Lines a person reads: each gate and its commands, as visible text (no hidden characters). */
export function describeCommands(contract: Pick<RepoContract, 'setup' | 'test' | 'lint'>): string[] {
  const lines: string[] = [];
  for (const gate of ['setup', 'test', 'lint'] as const) for (const command of contract[gate]) lines.push(`${gate}: ${visibleLine(command, 500)}`);
  return lines.length > 0 ? lines : ['(no commands)'];
}

export function isApproved(approvals: Approvals | undefined, repo: string, hash: string): boolean {
  return approvals?.[repo.toLowerCase()]?.includes(hash) ?? false;
}

export function withApproval(approvals: Approvals | undefined, repo: string, hash: string): Approvals {
  const key = repo.toLowerCase();
  const list = [...(approvals?.[key] ?? []).filter((h) => h !== hash), hash].slice(-KEPT_PER_REPO);
  return { ...approvals, [key]: list };
}
