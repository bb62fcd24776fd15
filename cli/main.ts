/**
 * The `owp` command: one entry, one module per subcommand. Errors a person reads say what to do.
 */
import { OwpError } from '../protocol/errors.ts';
import { StoreCorruptError } from '../coordinator/store/store.ts';
import { CliError, UsageError } from './args.ts';
import { EXIT, EXIT_CODES_HELP, exitCodeForOwpError } from './exit-codes.ts';
import { closest } from './suggest.ts';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  coordinator: { summary: 'run the coordinator (socket.io + HTTP, embedded store)', load: () => import('./commands/coordinator.ts') },
  conformance: { summary: 'run the OWP conformance kit against a coordinator (--url, --token)', load: () => import('./commands/conformance.ts') },
  contract: { summary: 'validate a repo contract (.owp.yml) or apply its gates to a repo', load: () => import('./commands/contract.ts') },
  policy: { summary: 'validate, apply or dry-run (explain) a repo policy (.owp/policy.yml)', load: () => import('./commands/policy.ts') },
  maintainer: { summary: 'issue, revoke and list maintainer tokens (with the admin token)', load: () => import('./commands/maintainer.ts') },
  task: { summary: 'create many tasks from a JSON or JSON-lines file (owp task import FILE)', load: () => import('./commands/task.ts') },
  vouch: { summary: 'vouch for a contributor in a repo (owp vouch @login --repo R), or list (--list)', load: () => import('./commands/vouch.ts') },
  denounce: { summary: 'denounce a contributor in a repo: never offered work there again', load: () => import('./commands/denounce.ts') },
  contributor: { summary: 'list a repo\'s contributors against their cap (list), or import or export its vouch list as a Trustdown file (VOUCHED.td)', load: () => import('./commands/contributor.ts') },
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
    'Usage: owp <command> [options]   (owp help <command> or owp <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

function unknownCommand(name: string): UsageError {
  const suggestion = closest(name, Object.keys(COMMANDS));
  return new UsageError(`unknown command "${name}".${suggestion ? ` Did you mean \`owp ${suggestion}\`?` : ''} Run \`owp --help\` for the list of commands.`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined) {
    // `owp help worker` is `owp worker --help`.
    const command = COMMANDS[rest[0]];
    if (!command) throw unknownCommand(rest[0]);
    return (await command.load()).run(['--help']);
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    console.log('owp 0.1.0 (OWP protocol 0.1)');
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) throw unknownCommand(name);
  return (await command.load()).run(rest);
}

/** What an error that reached the top means: its code for scripts, its exit code, and the sentence a person reads. */
function describe(error: unknown): { code: string; exitCode: number; message: string; details?: unknown } {
  if (error instanceof UsageError) return { code: 'USAGE', exitCode: EXIT.usage, message: error.message };
  if (error instanceof CliError) return { code: 'FAILED', exitCode: EXIT.failed, message: error.message };
  if (error instanceof OwpError) return { code: error.code, exitCode: exitCodeForOwpError(error), message: `${error.code}: ${error.message}`, ...(error.details !== undefined ? { details: error.details } : {}) };
  if (error instanceof StoreCorruptError) return { code: 'STORE_CORRUPT', exitCode: EXIT.failed, message: `cannot start: ${error.message}` };
  return { code: 'INTERNAL', exitCode: EXIT.failed, message: (error as Error).stack ?? String(error) };
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const { code, exitCode, message, details } = describe(error);
    // Under --json a script reads stdout: the error is one JSON object there too, not prose on stderr.
    if (argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify({ event: 'error', code, exit_code: exitCode, message: message.replace(/^[A-Z_]+: /, ''), ...(details !== undefined ? { details } : {}) })}\n`);
    } else {
      console.error(message.startsWith('owp ') ? message : `owp: ${message}`);
    }
    process.exitCode = exitCode;
  },
);
