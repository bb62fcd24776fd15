/**
 * The CLI worker works only on its clone's repository (issue 16): with two real git repos and a
 * clone of one, `owp worker` declares the clone's repo (from its origin remote), is offered only
 * that repo's task although the other repo's task comes first, and gives back a lease on the other
 * repo that its identity held from before; `owp status` names each task's repo, in the shared
vocabulary (capacity used / free, the lease's deadline and, apart, its heartbeat). A folder whose
 * remotes name no repo is refused before it joins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPool, tempDir, until } from '../helpers/coordinator.ts';
import { createDemoRemote } from '../../cli/demo/demo-repo.ts';
import { owpArgv } from '../helpers/owp-cli.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const HELLO = 'octo-org/hello-owp';
const WEBSITE = 'octo-org/owp-website';

type Event = Record<string, unknown> & { event: string };

function events(text: string): Event[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
}

function owp(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...owpArgv(), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('owp worker in a clone of one repo is offered only its tasks, gives back a lease of another repo, and owp status names each repo', { timeout: 180_000 }, async () => {
  const pool = await startPool('lowdb');
  const root = tempDir('owp-cli-repos-');
  const hello = await createDemoRemote(join(root, 'git'));
  // The second repo: its own bare remote whose path names it, as a real remote URL would.
  const website = join(root, 'git', 'remote', 'octo-org', 'owp-website.git');
  execFileSync('git', ['clone', '--quiet', '--bare', hello, website]);
  let worker: ChildProcessWithoutNullStreams | undefined;
  try {
    await pool.repo(HELLO);
    await pool.repo(WEBSITE);
    // The website's task comes first by priority: a worker that ignored repos would be offered it.
    const siteTask = await pool.task(WEBSITE, { title: 'Fix the landing page', skills: ['docs'], effort: 1, priority: 50 });
    const heldSiteTask = await pool.task(WEBSITE, { title: 'Fix the footer', skills: ['docs'], effort: 1, area: 'footer' });

    // An identity that already holds a lease on the website (joined before repos were declared):
    // it claims through the API, then is saved in the hello-owp clone as `owp worker` would.
    const { worker: carol, token } = await WorkerClient.register(pool.url, { github_login: 'carol', skills: ['docs'], capacity: 3, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
    const held = await new HttpClient({ baseUrl: pool.url, token }).call('task.claim', { task_id: heldSiteTask, idempotency_key: 'carol-claim' });
    assert.equal(held.lease.repo, WEBSITE);

    const clone = join(root, 'carol', 'hello-owp');
    mkdirSync(join(root, 'carol'));
    execFileSync('git', ['clone', '--quiet', hello, clone]);
    writeFileSync(join(clone, '.git', 'owp-worker.json'), JSON.stringify({ version: 1, coordinator: pool.url, token, worker_id: carol.id, github_login: 'carol', repo_dir: clone, tasks: {} }), { mode: 0o600 });
    const helloTask = await pool.task(HELLO, { title: 'Fix "recieve" typo in the guide', skills: ['docs'], effort: 1 });

    const env = { ...process.env, NO_COLOR: '1', GIT_AUTHOR_NAME: 'Carol', GIT_AUTHOR_EMAIL: 'carol@example.invalid', GIT_COMMITTER_NAME: 'Carol', GIT_COMMITTER_EMAIL: 'carol@example.invalid' };
    worker = spawn(process.execPath, [...owpArgv(), 'worker', '--repo-dir', clone, '--tool', 'none', '--auto-accept', '--json'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
    worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const seen = (predicate: (e: Event) => boolean, what: string): Promise<Event> => until(() => events(out).find(predicate), `${what}\n--- worker output\n${out}`, 60_000);

    const refused = await seen((e) => e.event === 'lease.refused', 'the lease of the other repo is given back');
    assert.equal(refused.task_id, heldSiteTask);
    assert.equal(refused.repo, WEBSITE);
    assert.deepEqual(refused.repos, [HELLO]);
    const workspace = await seen((e) => e.event === 'workspace', 'a task is checked out');
    assert.equal(workspace.task_id, helloTask, 'the clone of hello-owp took the hello-owp task');

    const back = (await pool.admin.call('task.get', { task_id: heldSiteTask })).task;
    assert.equal(back.state, 'ready', 'the released website task is back in the pool');
    const me = (await pool.admin.call('worker.list', {})).workers.find((w) => w.id === carol.id);
    assert.deepEqual(me?.repos, [HELLO], 'the hello declared the clone\'s repo');
    assert.equal((await pool.admin.call('task.get', { task_id: siteTask })).task.state, 'ready', 'the first-priority website task was never offered');
    assert.ok(!events(out).some((e) => e.event === 'offer' && [siteTask, heldSiteTask].includes((e.offer as { task_id: string }).task_id)), `no offer of a website task reached the worker\n${out}`);
    const explained = await pool.admin.call('task.explain', { task_id: siteTask });
    assert.match(JSON.stringify(explained.reasons), /no worker works on octo-org\/owp-website/);

    // owp status names the repo of each task, and the repos the worker works on.
    const json = await owp(['status', '--json', '--repo-dir', clone], env);
    assert.equal(json.code, 0, json.stderr);
    const view = JSON.parse(json.stdout) as { worker: { repos: string[] }; leases: Array<{ task_id: string; repo: string }> };
    assert.deepEqual(view.worker.repos, [HELLO]);
    assert.deepEqual(view.leases.map((l) => [l.task_id, l.repo]), [[helloTask, HELLO]]);
    const text = await owp(['status', '--repo-dir', clone], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /works on octo-org\/hello-owp/);
    assert.match(text.stdout, new RegExp(`${helloTask} octo-org/hello-owp in_progress "Fix "recieve" typo in the guide" · lease L-\\d+ · deadline in (1 h 59 min|2 h) · heartbeat ok`), 'the lease\'s hard deadline and, apart, its heartbeat');
    assert.match(text.stdout, /capacity 1 used \/ 2 free/, 'capacity in the words of every surface');

    worker.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => worker!.once('close', resolve)), 0);

    // A folder whose remotes name no repository cannot join: nothing tells it which tasks fit.
    const bare = join(root, 'scratch');
    mkdirSync(bare);
    execFileSync('git', ['init', '--quiet', bare]);
    const lost = await owp(['worker', '--coordinator', pool.url, '--github-login', 'dave', '--repo-dir', bare], env);
    assert.equal(lost.code, 2);
    assert.match(lost.stderr, /none of its remotes \(origin, upstream\) names one as owner\/name/);
    assert.equal((await pool.admin.call('worker.list', {})).workers.some((w) => w.github_login === 'dave'), false, 'it did not join');
  } finally {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await pool.close();
    rmSync(root, { recursive: true, force: true });
  }
});
