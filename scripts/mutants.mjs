// `npm run test:mutants [-- NAME…] [--only-expected] [--jobs N]`: the conformance kit's mutation
// score. For each mutant in test/conformance/mutants.mjs it copies the working tree, applies the
// mutant there (exact find/replace edits that must match once), starts the broken coordinator from
// that copy (or, for a client mutant, runs `owp conformance --client` against the broken `owp
// worker`; for a github mutant, the coordinator syncs a repo from the kit's GitHub-shaped
// server), runs the kit from this tree over the wire, and records which requirement ids failed. A
// mutant is caught when the kit fails any MUST requirement. Writes .owp-results/mutants.json and
// exits non-zero when a mutant was missed or no longer applies.
//
// --check only checks the catalogue (every edit applies once, every id is in SPEC.md) and exits.
// --only-expected runs only the requirement ids each mutant names (`breaks`): quick, for the
// sample in `npm test`; there a mutant is caught when every id it names fails.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MUTANTS } from '../test/conformance/mutants.mjs';
import { ROOT, baseCopy, staleEdits } from './lib/tree-copy.mjs';

const CATALOGUE = 'test/conformance/mutants.mjs';
const TSX = createRequire(import.meta.url).resolve('tsx');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const valueOf = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const jobs = Math.max(1, Number(valueOf('--jobs', '2')) || 1);
const onlyExpected = flag('--only-expected');
const quiet = flag('--quiet');
const reportFile = valueOf('--out', onlyExpected ? undefined : join(ROOT, '.owp-results', 'mutants.json'));
const wanted = args.filter((a, i) => !a.startsWith('--') && !['--jobs', '--out'].includes(args[i - 1]));
const unknown = wanted.filter((w) => !MUTANTS.some((m) => m.name === w));
if (unknown.length > 0) {
  console.error(`Unknown mutant ${unknown.join(', ')}. Known: ${MUTANTS.map((m) => m.name).join(', ')}`);
  process.exit(2);
}
const mutants = wanted.length > 0 ? MUTANTS.filter((m) => wanted.includes(m.name)) : MUTANTS;

/** What is wrong with the catalogue itself: stale edits, unknown requirement ids, duplicate names. */
function catalogueProblems() {
  const problems = staleEdits(MUTANTS, CATALOGUE);
  const ids = new Set([...readFileSync(join(ROOT, 'protocol', 'SPEC.md'), 'utf8').matchAll(/\*\*([A-Z]+-\d{3})\*\*/g)].map((m) => m[1]));
  const names = new Set();
  for (const m of MUTANTS) {
    if (names.has(m.name)) problems.push(`${m.name}: the name is used twice`);
    names.add(m.name);
    if (m.breaks.length === 0) problems.push(`${m.name}: breaks names no requirement`);
    for (const id of m.breaks) if (!ids.has(id)) problems.push(`${m.name}: ${id} is not a requirement of protocol/SPEC.md`);
    if (!m.why || m.edits.length === 0) problems.push(`${m.name}: needs a why and at least one edit`);
  }
  return problems;
}

const problems = catalogueProblems();
if (problems.length > 0 || flag('--check')) {
  for (const p of problems) console.error(p);
  const groups = new Set(MUTANTS.map((m) => m.group));
  console.log(`${MUTANTS.length} mutants in ${groups.size} requirement groups; ${problems.length} problems.`);
  process.exit(problems.length > 0 ? 1 : 0);
}

/** Runs node with args; resolves with its exit code and output. */
function node(argv, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

/** Starts `owp coordinator` from a mutated copy; resolves with its URL, or rejects with its output. */
function startCoordinator(dir, token, extraArgs = [], extraEnv = {}) {
  const child = spawn(process.execPath, ['--import', TSX, join(dir, 'cli', 'main.ts'), 'coordinator', '--port', '0', '--store', 'memory', '--log-level', 'error', ...extraArgs], {
    cwd: dir,
    env: { ...process.env, OWP_ADMIN_TOKEN: token, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the coordinator printed no URL within 60 s:\n${out.slice(-2000)}`));
    }, 60_000);
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop });
      }
    });
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the coordinator exited with ${code} before listening:\n${out.slice(-2000)}`));
    });
  });
}

/** A free port for the kit's GitHub-shaped server and a coordinator config that syncs a repo from it. */
async function githubSetup(work) {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
  const repo = 'conformance/github';
  const config = join(work, 'coordinator.yml');
  writeFileSync(config, `github:\n  api_url: http://127.0.0.1:${port}\n  token_env: OWP_MUTANT_GITHUB_TOKEN\n  poll_interval_ms: 300\n  repos: [{ repo: ${repo} }]\n`);
  return {
    coordinatorArgs: ['--config', config],
    env: { OWP_MUTANT_GITHUB_TOKEN: 'owp-conformance-github' },
    kitArgs: ['--github-repo', repo, '--github-port', String(port)],
  };
}

async function runMutant(copies, mutant) {
  const started = Date.now();
  const kind = mutant.kind ?? 'coordinator';
  const { dir, problem } = copies.variant(mutant.name, mutant.edits, CATALOGUE);
  const work = mkdtempSync(join(tmpdir(), `owp-mutant-run-${mutant.name}-`));
  const result = { name: mutant.name, group: mutant.group, kind, breaks: mutant.breaks };
  try {
    if (problem) return { ...result, caught: false, problem };
    const report = join(work, 'report.json');
    const only = onlyExpected ? ['--only', mutant.breaks.join(',')] : [];
    let run;
    if (kind === 'client') {
      const clientCmd = `${JSON.stringify(process.execPath)} --import ${JSON.stringify(TSX)} ${JSON.stringify(join(dir, 'cli', 'main.ts'))} worker --coordinator {url} --github-login conformance --auto-accept --tool none --repo-dir {dir} --state {dir}/worker.json --json`;
      run = await node(['--import', TSX, join(ROOT, 'cli', 'main.ts'), 'conformance', '--client', '--client-cmd', clientCmd, '--report', report, ...only], { cwd: ROOT });
    } else {
      const token = `owp_mutant_${randomBytes(16).toString('hex')}`;
      // A github mutant: the coordinator syncs a repo from the GitHub-shaped server the kit starts.
      const github = kind === 'github' ? await githubSetup(work) : undefined;
      let coordinator;
      try {
        coordinator = await startCoordinator(dir, token, github?.coordinatorArgs ?? [], github?.env ?? {});
      } catch (error) {
        // A mutant that keeps the coordinator from starting is caught by anyone, the kit included.
        return { ...result, caught: true, failed: [], note: `the coordinator did not start: ${error.message.split('\n')[0]}` };
      }
      try {
        run = await node(['--import', TSX, join(ROOT, 'cli', 'main.ts'), 'conformance', '--url', coordinator.url, '--token', token, '--level', 'must', '--concurrency', '8', '--report', report, ...only, ...(github?.kitArgs ?? [])], { cwd: ROOT });
      } finally {
        await coordinator.stop();
      }
    }
    let parsed;
    try {
      parsed = JSON.parse(readFileSync(report, 'utf8'));
    } catch {
      return { ...result, caught: false, problem: `the kit wrote no report (exit ${run.code}):\n${run.out.slice(-3000)}` };
    }
    const failed = parsed.requirements.filter((r) => r.status === 'fail').map((r) => r.id);
    const named = mutant.breaks.filter((id) => failed.includes(id));
    const caught = onlyExpected ? named.length === mutant.breaks.length : failed.length > 0;
    const messages = parsed.tests.filter((t) => t.status === 'fail').map((t) => `${t.requirement}: ${(t.message ?? '').split('\n')[0].slice(0, 300)}`);
    return { ...result, caught, failed, named_failed: named, ...(messages.length > 0 ? { messages } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    result.seconds = Math.round((Date.now() - started) / 1000);
  }
}

const copies = baseCopy('owp-mutants');
process.on('exit', () => copies.close());
const queue = [...mutants];
const results = [];
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, async () => {
  for (let m = queue.shift(); m; m = queue.shift()) {
    const started = Date.now();
    const r = await runMutant(copies, m);
    r.seconds = Math.round((Date.now() - started) / 1000);
    results.push(r);
    const mark = r.caught ? 'caught' : 'MISSED';
    const detail = r.problem ?? (r.note ? r.note : `failed ${r.failed.join(', ') || 'nothing'}${r.named_failed.length < r.breaks.length ? ` (names ${r.breaks.join(', ')})` : ''}`);
    if (!quiet || !r.caught) console.log(`${mark.padEnd(6)} ${m.name.padEnd(30)} ${String(r.seconds).padStart(4)} s  ${detail}`);
  }
}));

results.sort((a, b) => MUTANTS.findIndex((m) => m.name === a.name) - MUTANTS.findIndex((m) => m.name === b.name));
const caught = results.filter((r) => r.caught).length;
const score = results.length === 0 ? 1 : caught / results.length;
const groups = [...new Set(MUTANTS.map((m) => m.group))];
const summary = {
  mode: onlyExpected ? 'only-expected' : 'full-kit',
  mutants: results.length,
  caught,
  missed: results.filter((r) => !r.caught).map((r) => r.name),
  mutation_score: Math.round(score * 1000) / 1000,
  groups: Object.fromEntries(groups.map((g) => [g, results.filter((r) => r.group === g).map((r) => `${r.name}: ${r.caught ? 'caught' : 'MISSED'}`)])),
  results,
};
if (reportFile) {
  mkdirSync(join(reportFile, '..'), { recursive: true });
  writeFileSync(reportFile, `${JSON.stringify(summary, null, 2)}\n`);
}
console.log(`\nMutation score: ${caught}/${results.length} mutants caught (${(score * 100).toFixed(1)} %)${summary.missed.length > 0 ? `; missed: ${summary.missed.join(', ')}` : ''}${reportFile ? `. Written to ${reportFile}` : ''}`);
process.exit(caught === results.length ? 0 : 1);
