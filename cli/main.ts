/**
 * The `owp` command: one entry, one module per subcommand. Errors a person reads say what to do.
 */
import { OwpError } from '../protocol/errors.ts';
import { StoreCorruptError } from '../coordinator/store/store.ts';
import { CliError, UsageError } from './args.ts';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  coordinator: { summary: 'run the coordinator (socket.io + HTTP, embedded store)', load: () => import('./commands/coordinator.ts') },
  conformance: { summary: 'run the OWP conformance kit against a coordinator (--url, --token)', load: () => import('./commands/conformance.ts') },
  contract: { summary: 'validate a repo contract (.owp.yml) or apply its gates to a repo', load: () => import('./commands/contract.ts') },
  policy: { summary: 'validate, apply or dry-run (explain) a repo policy (.owp/policy.yml)', load: () => import('./commands/policy.ts') },
  vouch: { summary: 'vouch for a contributor in a repo (owp vouch @login --repo R), or list (--list)', load: () => import('./commands/vouch.ts') },
  denounce: { summary: 'denounce a contributor in a repo: never offered work there again', load: () => import('./commands/denounce.ts') },
  github: { summary: 'check the tokens of the config\'s github section (owp github check --config FILE)', load: () => import('./commands/github.ts') },
  worker: { summary: 'join a pool from a terminal and take offers (Claude Code, Aider, any tool)', load: () => import('./commands/worker.ts') },
  submit: { summary: 'run the gates, open the PR and report it for the task in this worktree', load: () => import('./commands/submit.ts') },
  release: { summary: 'give a held task back to the pool', load: () => import('./commands/release.ts') },
  status: { summary: "this clone's worker: leases, offers, worktrees", load: () => import('./commands/status.ts') },
  demo: { summary: 'the five-minute demo: coordinator, git repo, three workers, kill and requeue', load: () => import('./commands/demo.ts') },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'owp — the Open Work Protocol toolkit',
    '',
    'Usage: owp <command> [options]   (owp <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  if (name === '--version') {
    console.log('owp 0.1.0 (OWP protocol 0.1)');
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`owp: unknown command "${name}".\n\n${help()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`owp: ${error.message}`);
      process.exitCode = 2;
    } else if (error instanceof CliError) {
      console.error(`owp: ${error.message}`);
      process.exitCode = 1;
    } else if (error instanceof OwpError) {
      console.error(`owp: ${error.code}: ${error.message}`);
      process.exitCode = 1;
    } else if (error instanceof StoreCorruptError) {
      console.error(`owp: cannot start: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(`owp: ${(error as Error).stack ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
