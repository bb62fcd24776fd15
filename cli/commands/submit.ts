/**
 * `owp submit`: finish the task in this worktree. Commits what is left, runs the contract's gates
 * (a spinner and the tail of the output while they run), pushes the branch, opens the pull request
 * as the volunteer (or takes the URL of one they opened), and reports `pr_opened` with the gate
 * evidence. A failing gate stops here with the lease still held, so the volunteer can fix and retry.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { GateEvidence, Task } from '../../protocol/model.ts';
import { OwpError } from '../../protocol/errors.ts';
import { HttpClient } from '../../client/http-client.ts';
import type { RepoContract } from '../../client/contract.ts';
import { baseContract } from '../../client/task-workspace.ts';
import { missingGates, runGates } from '../../client/gates.ts';
import { commitAll, currentBranch, hasRemote, isGitRepo, parseRemoteUrl, push, remoteUrl, repoRoot } from '../../client/git.ts';
import { openPullRequest, PullRequestError } from '../../client/pull-request.ts';
import { GitError } from '../../client/git.ts';
import { PushError, pushBranch } from '../../client/branch-push.ts';
import { ForkError, type PushMode } from '../../client/fork.ts';
import { GITHUB_API_URL, volunteerOctokit } from '../../client/github-api.ts';
import { publishBranch } from '../../client/publish.ts';
import { evidenceLabel, followChecks, prProgress } from '../../client/checks-wait.ts';
import { readyWhenCounted, sayProgress } from '../checks-report.ts';
import { CliError, parse, UsageError, intFlag } from '../args.ts';
import { approveCommands } from '../command-approval.ts';
import { githubCredential } from '../github-credential.ts';
import { formatDuration, Output } from '../output.ts';
import { findHeldTask, requireState, stateFilePath, updateState, type HeldTask, type WorkerState, LOCAL_WORKER_FLAGS } from '../worker-state.ts';

export const USAGE = `Usage: owp submit [--task T-n] [--fork | --no-fork] [--pr-url URL] [--confirm-checklist] [--yes] [--no-push] [--wait] [--json]

Run in a task's worktree. Commits remaining changes, runs the repo's gates (setup, tests, lint),
pushes the branch (to the repo when you may push there, else to your fork, found or created with
your token), opens a draft pull request as you and reports it to the coordinator with the gate
evidence. If a gate fails nothing is reported: fix it and run submit again. In a repo whose PRs
must pass CI checks, the PR counts once they pass on its head: submit prints the checks it waits
for (--wait follows them; \`owp status\` shows them) and a new push restarts the wait. When it
counts, your draft is marked ready for review with your token.

  --task T-n            which held task (default: the one whose worktree you are in)
  --pr-url URL          you opened the PR yourself: report this URL instead of opening one
  --github-token-file F read the token to open the PR with from a file (--github-token - : stdin);
                        default: $OWP_GITHUB_TOKEN, $GITHUB_TOKEN, $GH_TOKEN, then \`gh auth token\`.
                        A github.com token is never sent to another host unless --github-api says so
  --yes                 run the repo's setup/test/lint commands even if new or changed (they are
                        shown first; interactively you are asked)
  --approve-commands H  run them only if they are exactly the set with hash H (for scripts)
  --github-api URL      GitHub API base (default: $OWP_GITHUB_API_URL, else from the remote host;
                        GitHub Enterprise: https://HOST/api/v3)
  --confirm-checklist   confirm the contract's PR checklist without being asked
  --message MSG         commit message for uncommitted changes (default: "<task>: <title>")
  --summary TEXT        what you changed, for the PR description
  --fork                push to your fork even with push access to the repo
  --no-fork             push to the repo itself (origin), never to a fork
  --no-push             do not push (the branch is already where the PR needs it)
  --wait                wait for the required CI checks: exit 0 once the PR counts (the draft is
                        then marked ready for review), 1 when a check fails or the wait times out
  --poll-ms N           how often --wait asks the coordinator (default 10000)
  --gate-timeout-ms N   per-gate timeout (default 600000)
  --repo-dir DIR        the worktree (default: the current folder)
  --json                one JSON event per line`;

export async function run(argv: string[]): Promise<number> {
  try {
    return await submit(argv);
  } catch (error) {
    if (error instanceof PullRequestError) throw new CliError(`${error.message} Your branch is pushed; once the PR is open, run \`owp submit --no-push --pr-url URL\`.`);
    if (error instanceof GitError || error instanceof PushError) throw new CliError(error.message);
    if (error instanceof ForkError) throw new CliError(`${error.message} Nothing was opened; the task is still yours.`);
    throw error;
  }
}

async function submit(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    task: { type: 'string' },
    'pr-url': { type: 'string' },
    'github-token': { type: 'string' },
    'github-token-file': { type: 'string' },
    yes: { type: 'boolean' },
    'approve-commands': { type: 'string' },
    'github-api': { type: 'string' },
    'confirm-checklist': { type: 'boolean', short: 'y' },
    message: { type: 'string' },
    summary: { type: 'string' },
    'no-push': { type: 'boolean' },
    fork: { type: 'boolean' },
    'no-fork': { type: 'boolean' },
    'gate-timeout-ms': { type: 'string' },
    wait: { type: 'boolean' },
    'poll-ms': { type: 'string' },
    ...LOCAL_WORKER_FLAGS,
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values['pr-url'] !== undefined && !/^https?:\/\/\S+$/.test(values['pr-url'])) throw new UsageError('--pr-url must be an http(s) URL.');
  const out = new Output({ json: Boolean(values.json) });
  const here = resolve(values['repo-dir'] ?? process.cwd());
  if (!(await isGitRepo(here))) throw new UsageError(`${here} is not a git checkout. Run owp submit in the task's worktree (owp status lists them).`);
  const stateFile = await stateFilePath(here, values.state);
  const state = await requireState(stateFile);
  const root = await repoRoot(here);
  const branchHere = await currentBranch(root);
  const held = findHeldTask(state, { ...(values.task ? { taskId: values.task } : {}), dir: root, ...(branchHere ? { branch: branchHere } : {}) });
  const dir = held.dir;
  const http = new HttpClient({ baseUrl: state.coordinator, token: state.token });

  // 1. Still ours? A lease that expired while we worked cannot be reported.
  const status = await http.call('worker.status', {});
  if (!status.leases.some((l) => l.lease_id === held.lease_id)) {
    await forget(stateFile, held);
    throw new OwpError('LEASE_EXPIRED', `Your lease on ${held.task_id} has ended (expired, released or cancelled), so it cannot be submitted. Keep the branch ${held.branch} if you like; wait for a new offer in \`owp worker\`.`);
  }
  const { task } = await http.call('task.get', { task_id: held.task_id });
  const onBranch = await currentBranch(dir);
  if (onBranch !== held.branch) throw new UsageError(`${dir} is on ${onBranch ?? 'a detached HEAD'}, not the task branch ${held.branch}. Check it out (git checkout ${held.branch}) and submit again.`);

  // 2. Commit what is left.
  const sha = await commitAll(dir, values.message ?? `${held.task_id}: ${task.title.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (sha) out.success(`Committed remaining changes (${sha.slice(0, 8)})`, { commit: sha });

  // 3. Gates, as the default branch's contract defines them.
  const contract = await baseContract(dir, held.base);
  await approveCommands(contract, task.repo, stateFile, state, { ...(values.yes ? { yes: true } : {}), ...(values['approve-commands'] ? { approveCommands: values['approve-commands'] } : {}) }, out);
  const confirmed = await confirmChecklist(contract, Boolean(values['confirm-checklist']), out);
  const evidence = await runGatesWithProgress(dir, contract, confirmed, out, intFlag(values['gate-timeout-ms'], 'gate-timeout-ms', 600_000));
  const required = [...new Set([...contract.gates, ...(await requiredByCoordinator(http, task.repo))])];
  const missing = missingGates(evidence, required);
  if (missing.length > 0) {
    out.error(`Not submitted: ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} not passed. Fix and run \`owp submit\` again; the task is still yours.`, { missing, gates: evidence });
    out.event('submit.failed', { task_id: held.task_id, missing, gates: evidence });
    return 1;
  }

  // 4. Push (to upstream with push access, else to the volunteer's fork) and open the PR.
  const mode = pushModeOf(values);
  const apiBaseUrl = await githubApiUrl(dir, values['github-api']);
  const token = values['no-push'] && values['pr-url'] ? undefined : await githubCredential(apiBaseUrl, { ...(values['github-token'] ? { token: values['github-token'] } : {}), ...(values['github-token-file'] ? { tokenFile: values['github-token-file'] } : {}), apiGiven: Boolean(values['github-api'] ?? process.env.OWP_GITHUB_API_URL) }, out);
  let head: string | undefined;
  if (!values['no-push']) {
    if (token) {
      head = await publish(dir, held, task, token, apiBaseUrl, mode, out);
    } else {
      if (mode === 'fork') throw new UsageError(`--fork needs a GitHub token to find or create your fork: set GITHUB_TOKEN (classic: public_repo scope).`);
      if (!(await hasRemote(dir))) throw new UsageError(`${dir} has no "origin" remote to push to. Add one, or pass --no-push with --pr-url.`);
      out.spin(`Pushing ${held.branch}…`);
      try {
        await push(dir, held.branch);
      } finally {
        out.stopSpinner();
      }
      out.success(`Pushed ${held.branch}`);
    }
  }
  let pr: { url: string; number?: number };
  if (values['pr-url']) {
    pr = { url: values['pr-url'], ...prNumber(values['pr-url']) };
  } else {
    pr = await openPr(dir, held, task, contract, state, { token, apiBaseUrl, head, summary: values.summary }, out);
  }

  // 5. Report.
  const gates: GateEvidence[] = evidence;
  let reported: Task;
  try {
    ({ task: reported } = await http.call('lease.report', {
      lease_id: held.lease_id,
      epoch: held.epoch,
      state: 'pr_opened',
      pr: { url: pr.url, ...(pr.number ? { number: pr.number } : {}), branch: held.branch, gates, opened_at: Date.now() },
    }));
  } catch (error) {
    if (error instanceof OwpError && error.code === 'GATES_MISSING') {
      throw new OwpError('GATES_MISSING', `The coordinator wants passing evidence for ${String((error.details?.missing as string[] | undefined)?.join(', ') ?? 'more gates')}; the PR ${pr.url} is open but not counted. Add the missing commands to .owp.yml or ask the maintainer, then run \`owp submit --pr-url ${pr.url}\`.`, error.details);
    }
    throw error;
  }
  out.event('submitted', { task_id: held.task_id, pr, gates });
  return afterReport({ http, stateFile, held, reported, out, wait: Boolean(values.wait), pollMs: intFlag(values['poll-ms'], 'poll-ms', 10_000), github: { token, apiBaseUrl } });
}

/** Counted: done. Waiting for CI: the task stays held (a new push restarts the wait); --wait follows it. */
async function afterReport(o: { http: HttpClient; stateFile: string; held: HeldTask; reported: Task; out: Output; wait: boolean; pollMs: number; github: { token: string | undefined; apiBaseUrl: string } }): Promise<number> {
  const { out, held } = o;
  let task = o.reported;
  let progress = prProgress(task);
  if (progress.phase === 'counted') {
    await forget(o.stateFile, held);
    out.success(`${held.task_id} submitted: ${task.pr?.url ?? ''} (evidence ${evidenceLabel(progress)})`, { task_id: held.task_id, pr: task.pr });
    out.done();
    return 0;
  }
  out.success(`${held.task_id} submitted: ${task.pr?.url ?? ''}; it counts once the required CI checks pass on its head`, { task_id: held.task_id, pr: task.pr, checks: task.checks });
  sayProgress(out, held.task_id, progress);
  if (!o.wait) {
    out.info(`Follow them with \`owp status\` (or submit with --wait); keep \`owp worker\` running, it marks the draft ready for review once the PR counts. The task stays yours meanwhile.`);
    out.done();
    return 0;
  }
  let first = true;
  out.spin('Waiting for CI…');
  try {
    ({ task, progress } = await followChecks({
      read: async () => (await o.http.call('task.get', { task_id: held.task_id })).task,
      intervalMs: o.pollMs,
      onChange: (p) => {
        if (first) {
          first = false;
          return;
        }
        out.stopSpinner();
        sayProgress(out, held.task_id, p);
        if (p.phase === 'waiting') out.spin('Waiting for CI…');
      },
    }));
  } finally {
    out.stopSpinner();
  }
  out.event('checks.finished', { task_id: held.task_id, phase: progress.phase, pr: progress.pr, checks: progress.checks });
  if (progress.phase === 'counted' || progress.phase === 'gone') await forget(o.stateFile, held);
  await readyWhenCounted(out, task, progress, o.github);
  out.done();
  return progress.phase === 'counted' ? 0 : 1;
}

async function forget(stateFile: string, held: HeldTask): Promise<void> {
  await updateState(stateFile, (s) => {
    if (s.tasks[held.task_id]?.lease_id === held.lease_id) delete s.tasks[held.task_id];
  });
}

async function requiredByCoordinator(http: HttpClient, repo: string): Promise<string[]> {
  try {
    return (await http.call('repo.get', { repo })).settings.required_gates;
  } catch {
    return [];
  }
}

function prNumber(url: string): { number?: number } {
  const m = /\/pull\/(\d+)(?:[/?#]|$)/.exec(url);
  return m ? { number: Number(m[1]) } : {};
}

async function confirmChecklist(contract: RepoContract, given: boolean, out: Output): Promise<boolean | undefined> {
  if (contract.pr.checklist.length === 0) return undefined;
  if (given) return true;
  if (!process.stdin.isTTY || out.json) return contract.gates.includes('checklist') ? false : undefined;
  out.block(['Before the PR opens, confirm the checklist:', ...contract.pr.checklist.map((item) => `  - [ ] ${item}`)].join('\n'));
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question('All true? [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function runGatesWithProgress(dir: string, contract: RepoContract, confirmed: boolean | undefined, out: Output, timeoutMs: number): Promise<GateEvidence[]> {
  let lastLine = '';
  let current = '';
  const evidence = await runGates({
    repoDir: dir,
    contract,
    timeoutMs,
    ...(confirmed !== undefined ? { checklistConfirmed: confirmed } : {}),
    onGateStart: (gate, commands) => {
      current = gate;
      lastLine = '';
      out.spin(`${gate}: ${commands.join(' && ')}`);
      out.event('gate.started', { gate, commands });
    },
    onOutput: (gate, chunk) => {
      const lines = chunk.split('\n').map((l) => l.trim()).filter(Boolean);
      if (lines.length) lastLine = lines[lines.length - 1]!.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 80);
      if (out.tty) out.status(`${gate}: ${out.colors.dim(lastLine)}`);
      out.event('gate.output', { gate, chunk });
    },
    onGateEnd: (e) => {
      if (e.name === current) out.stopSpinner();
      const took = e.duration_ms !== undefined ? ` in ${formatDuration(e.duration_ms)}` : '';
      if (e.passed) out.success(`${e.name} passed${took}`, { gate: e });
      else out.error(`${e.name} failed${took}: ${(e.summary ?? '').split('\n').slice(-8).join('\n    ')}`, { gate: e });
      out.event('gate.finished', { gate: e });
    },
  });
  out.stopSpinner();
  out.status('');
  return evidence;
}

/** `--fork` / `--no-fork`: forced; neither: decided from the volunteer's push access. */
function pushModeOf(values: { fork?: boolean; 'no-fork'?: boolean }): PushMode {
  if (values.fork && values['no-fork']) throw new UsageError('--fork and --no-fork contradict each other; pass one.');
  return values.fork ? 'fork' : values['no-fork'] ? 'upstream' : 'auto';
}

/** --github-api, else $OWP_GITHUB_API_URL, else from origin's host (GitHub Enterprise: https://HOST/api/v3). */
async function githubApiUrl(dir: string, given: string | undefined): Promise<string> {
  if (given) return given;
  if (process.env.OWP_GITHUB_API_URL) return process.env.OWP_GITHUB_API_URL;
  const remote = await remoteUrl(dir);
  const parsed = remote ? parseRemoteUrl(remote) : undefined;
  return parsed && parsed.host !== 'github.com' ? `https://${parsed.host}/api/v3` : GITHUB_API_URL;
}

/** Pushes the task branch where its PR can come from; returns the PR's head. */
async function publish(dir: string, held: HeldTask, task: Task, token: string, apiBaseUrl: string, mode: PushMode, out: Output): Promise<string> {
  const [owner, repo] = task.repo.split('/') as [string, string];
  out.spin(`Pushing ${held.branch}…`);
  try {
    const published = await publishBranch({
      octokit: volunteerOctokit({ token, apiBaseUrl }),
      token,
      upstream: { owner, repo },
      mode,
      dir,
      branch: held.branch,
      pushUpstream: async () => {
        const origin = await remoteUrl(dir);
        if (!origin) throw new UsageError(`${dir} has no "origin" remote to push to. Add one, or pass --no-push with --pr-url.`);
        // Over HTTPS the token authenticates the push too (git's own credentials are used otherwise).
        await pushBranch({ dir, branch: held.branch, url: origin, token, remoteName: 'origin' });
      },
      onProgress: (message) => out.spin(`${message}…`),
    });
    out.stopSpinner();
    const where = `${published.target.owner}/${published.target.repo}`;
    out.success(`Pushed ${held.branch} to ${where} (${published.target.reason})`, { pushed_to: where, push_target: published.target.kind, head: published.head });
    return published.head;
  } finally {
    out.stopSpinner();
  }
}

async function openPr(dir: string, held: HeldTask, task: Task, contract: RepoContract, state: WorkerState, values: { token: string | undefined; apiBaseUrl: string; head: string | undefined; summary?: string | undefined }, out: Output): Promise<{ url: string; number: number }> {
  const { token } = values;
  if (!token) throw new UsageError(`No GitHub token to open the pull request with. Set GITHUB_TOKEN (a token that can open PRs in ${task.repo}), or open it yourself and run \`owp submit --no-push --pr-url URL\`.`);
  const [upstreamOwner, upstreamRepo] = task.repo.split('/') as [string, string];
  let head = values.head;
  if (head === undefined) {
    // Not pushed by us (--no-push): a clone of a fork names the fork as origin.
    const remote = await remoteUrl(dir);
    const parsed = remote ? parseRemoteUrl(remote) : undefined;
    const fromFork = parsed && (parsed.owner.toLowerCase() !== upstreamOwner.toLowerCase() || parsed.repo.toLowerCase() !== upstreamRepo.toLowerCase());
    head = fromFork ? `${parsed.owner}:${held.branch}` : held.branch;
  }
  out.spin(`Opening a pull request in ${task.repo}…`);
  try {
    const pr = await openPullRequest({
      token,
      owner: upstreamOwner,
      repo: upstreamRepo,
      head,
      base: held.base,
      task,
      contract,
      apiBaseUrl: values.apiBaseUrl,
      attribution: `Opened by @${state.github_login} via OWP (Open Work Protocol), task ${task.id}.`,
      ...(values.summary ? { summary: values.summary } : {}),
    });
    out.success(pr.existing ? `PR #${pr.number} is already open: ${pr.url}` : `Opened PR #${pr.number}: ${pr.url}`);
    return pr;
  } finally {
    out.stopSpinner();
  }
}
