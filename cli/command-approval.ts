/**
 * `owp submit` shows the repository's commands before they first run and when they change, and
 * asks; `--yes` accepts what is shown, `--approve-commands HASH` accepts only that exact set (for
 * scripts: a changed contract is refused). Approvals live in the worker state file, per repository.
 */
import { createInterface } from 'node:readline/promises';
import { commandsHash, describeCommands, isApproved, withApproval } from '../client/command-approval.ts';
import type { RepoContract } from '../client/contract.ts';
import { CliError } from './args.ts';
import type { Output } from './output.ts';
import { updateState, type WorkerState } from './worker-state.ts';

export interface ApprovalFlags {
  yes?: boolean;
  approveCommands?: string;
}

export async function approveCommands(contract: RepoContract, repo: string, stateFile: string, state: WorkerState, flags: ApprovalFlags, out: Output): Promise<void> {
  const hash = commandsHash(contract);
  if (isApproved(state.approved_commands, repo, hash)) return;
  const lines = describeCommands(contract);
  out.block([`${repo}'s contract runs these commands on your machine (commands ${hash}); they are new to you or changed since you approved them:`, ...lines.map((l) => `  ${l}`)].join('\n'));
  let accepted = flags.yes === true || flags.approveCommands === hash;
  if (!accepted && flags.approveCommands !== undefined) throw new CliError(`--approve-commands ${flags.approveCommands} does not match these commands (${hash}); read them and approve that hash. Nothing ran.`);
  if (!accepted && process.stdin.isTTY && !out.json) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      accepted = /^y(es)?$/i.test((await rl.question('Run them? [y/N] ')).trim());
    } finally {
      rl.close();
    }
  }
  if (!accepted) throw new CliError(`Not submitted: the commands above were not approved. Read them, then run \`owp submit --yes\` (or --approve-commands ${hash}); the task is still yours.`);
  await updateState(stateFile, (s) => {
    s.approved_commands = withApproval(s.approved_commands, repo, hash);
  });
}
