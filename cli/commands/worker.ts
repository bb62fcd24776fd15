/** `owp worker`: join a pool as a headless worker from a terminal (Claude Code, Aider, or any tool). */
import { resolve } from 'node:path';
import { WorkerClient, type WorkerProfile } from '../../client/worker-client.ts';
import { HttpClient } from '../../client/http-client.ts';
import { cloneRepos, REPO_REMOTES } from '../../client/clone-repos.ts';
import { OwpError } from '../../protocol/errors.ts';
import { intFlag, parse, UsageError } from '../args.ts';
import { Output } from '../output.ts';
import { isToolName, TOOLS, type ToolName } from '../handoff.ts';
import { WorkerSession } from '../worker-session.ts';
import { watchSubmitted } from '../submitted-watch.ts';
import { readState, stateFilePath, writeState, type WorkerState } from '../worker-state.ts';

export const USAGE = `Usage: owp worker --coordinator URL --github-login LOGIN [--skills docs,ts] [--capacity N]
                  [--tool claude-code|aider|none] [--repo-dir DIR] [--auto-accept] [--json]

Joins an OWP pool from this clone and takes offers. The clone's repos (named by its origin and
upstream remotes) are declared to the coordinator, which offers only their tasks; a task of any
other repo is refused. Each accepted task gets its own git worktree (next to the clone, in
<clone>-owp/T-n) on a branch named by the repo's contract, and is handed to your AI tool (or its
prompt is printed). Finish a task with \`owp submit\` in its worktree.

  --coordinator URL     the coordinator (remembered after the first run)
  --github-login LOGIN  your GitHub login (PRs are opened as you, with your own token)
  --skills LIST         comma-separated skills, e.g. docs,ts,tests (default: as registered, or docs)
  --capacity N          capacity points you offer at once (default: as registered, or 1)
  --tool T              ${TOOLS.join(' | ')} (default none: print the prompt)
  --repo-dir DIR        the clone to work in (default: the current folder)
  --tasks-dir DIR       where task worktrees go (default: <clone>-owp next to the clone)
  --auto-accept         accept every offer without asking
  --json                one JSON event per line, for scripts
  --invite CODE         an invite code, if the coordinator asks for one
  --state FILE          where the worker identity is kept (default: .git/owp-worker.json, mode 0600)
Keys: a accept · d decline · q quit. Without a terminal, type a, d or q and Enter.`;

async function tokenStillValid(coordinator: string, token: string): Promise<boolean> {
  try {
    await new HttpClient({ baseUrl: coordinator, token }).call('worker.status', {});
    return true;
  } catch (error) {
    // Only a definite "who are you?" means rejoin; an unreachable coordinator is handled by reconnects.
    return !(error instanceof OwpError && error.code === 'UNAUTHENTICATED');
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    coordinator: { type: 'string' },
    'github-login': { type: 'string' },
    skills: { type: 'string' },
    capacity: { type: 'string' },
    tool: { type: 'string' },
    'repo-dir': { type: 'string' },
    'tasks-dir': { type: 'string' },
    'auto-accept': { type: 'boolean' },
    json: { type: 'boolean' },
    invite: { type: 'string' },
    state: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const tool = values.tool ?? 'none';
  if (!isToolName(tool)) throw new UsageError(`--tool must be one of ${TOOLS.join(', ')}, got "${tool}".`);
  const skills = values.skills?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const capacity = values.capacity === undefined ? undefined : intFlag(values.capacity, 'capacity', 1);
  if (capacity === 0) throw new UsageError('--capacity must be at least 1.');
  const repoDir = resolve(values['repo-dir'] ?? process.cwd());
  const out = new Output({ json: Boolean(values.json) });
  const stateFile = await stateFilePath(repoDir, values.state);
  const repos = await cloneRepos(repoDir);
  if (repos.length === 0) {
    throw new UsageError(`${repoDir} is not a clone of a repository: none of its remotes (${REPO_REMOTES.join(', ')}) names one as owner/name. Run \`owp worker\` in a clone of the repository you work on (git clone URL), or pass --repo-dir.`);
  }

  let state = await readState(stateFile);
  const coordinator = (values.coordinator ?? state?.coordinator)?.replace(/\/$/, '');
  if (!coordinator) throw new UsageError(`--coordinator is required the first time.\n\n${USAGE}`);
  const login = values['github-login'];
  let joinAgain = !state || state.coordinator !== coordinator || (login !== undefined && login !== state.github_login);
  if (!joinAgain && state && !(await tokenStillValid(coordinator, state.token))) {
    out.warn(`The coordinator no longer knows the worker saved in ${stateFile} (its data was reset or the token revoked); joining again.`);
    joinAgain = true;
  }
  const profile: Partial<Omit<WorkerProfile, 'github_login'>> = {
    tools: [tool],
    capabilities: { can_run_tests: true, can_open_prs: true },
    repos,
    ...(skills ? { skills } : {}),
    ...(capacity !== undefined ? { capacity } : {}),
  };
  if (joinAgain) {
    const joinAs = login ?? (state?.coordinator === coordinator ? state.github_login : undefined);
    if (!joinAs) throw new UsageError(`--github-login is required to join ${coordinator}.\n\n${USAGE}`);
    out.spin(`Joining the pool at ${coordinator}…`);
    const { worker, token } = await WorkerClient.register(coordinator, {
      github_login: joinAs,
      skills: skills ?? ['docs'],
      capacity: capacity ?? 1,
      tools: [tool],
      capabilities: { can_run_tests: true, can_open_prs: true },
      repos,
      ...(values.invite ? { invite: values.invite } : {}),
    }).finally(() => out.stopSpinner());
    state = { version: 1, coordinator, token, worker_id: worker.id, github_login: worker.github_login, repo_dir: repoDir, tasks: {} } satisfies WorkerState;
    await writeState(stateFile, state);
    out.success(`Joined as ${worker.id} (@${worker.github_login}); identity saved in ${stateFile} (mode 0600)`, { worker, state_file: stateFile });
  }
  const joined = state as WorkerState;

  // tasks.changed hints tell it when to re-read its PRs (merged, closed) and its trust.
  // Accepting on its own, the worker can hold an offer for each capacity point it has (offer pipelining;
  // the coordinator counts each open offer against the capacity, so a window above it costs nothing).
  // A volunteer deciding offers one by one sees one at a time, so none expires while they read.
  const window = values['auto-accept'] ? Math.min(32, Math.max(1, capacity ?? 32)) : 1;
  // Accepting every offer is what direct leases are (SPEC OFFER-011): where the coordinator declares
  // `direct-leases` it grants the leases itself and the accept round trip goes; elsewhere the worker
  // accepts each offer as before. No flag of its own: --auto-accept already says "take every task".
  const acceptOffers = values['auto-accept'] ? { acceptOffers: 'auto' as const } : {};
  const client = new WorkerClient({ url: coordinator, token: joined.token, profile, retryForMs: 60_000, maxOpenOffers: window, subscribeTasks: true, ...acceptOffers });
  const session = new WorkerSession({
    client,
    out,
    state: joined,
    stateFile,
    repoDir,
    repos,
    tool: tool as ToolName,
    autoAccept: Boolean(values['auto-accept']),
    ...(values['tasks-dir'] ? { tasksDir: resolve(values['tasks-dir']) } : {}),
    ...(process.stdin.isTTY || !values['auto-accept'] ? { input: process.stdin } : {}),
  });
  const onSignal = (): void => session.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unwatch = watchSubmitted(client, new HttpClient({ baseUrl: coordinator, token: joined.token }), out);
  try {
    await session.run();
  } finally {
    unwatch();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const held = [...client.leases.values()];
    client.close();
    out.done();
    if (held.length > 0) {
      out.warn(`Stopped with ${held.length} task(s) held (${held.map((l) => l.task_id).join(', ')}). Their leases expire without heartbeats; run \`owp worker\` again from this clone to resume, or \`owp release\` to give them back.`);
    } else {
      out.info('Stopped.');
    }
    out.event('stopped', { held: held.map((l) => l.task_id) });
  }
  return 0;
}
