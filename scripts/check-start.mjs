// Proves the README's `npm start` in a checkout: runs it (on a free port, so a coordinator already
// on 8787 does not get in the way), waits for "listening on", reads /healthz, /readyz and /metrics
// as an operator would, then stops it with SIGINT (what Ctrl-C sends) and expects a clean exit.
// Usage: node scripts/check-start.mjs [CHECKOUT]   (default: this checkout). Exits 1 on any failure.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const checkout = resolve(process.argv[2] ?? '.');
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

function fail(message, output) {
  console.error(`check-start: ${message}`);
  if (output) console.error(`--- npm start printed ---\n${output.slice(-4000)}`);
  process.exit(1);
}

let output = '';
// Its own process group, so the stop reaches npm, the shell and the coordinator as Ctrl-C would.
const child = spawn('npm', ['start', '--', '--port', '0'], { cwd: checkout, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
child.stdout.on('data', (chunk) => (output += chunk));
child.stderr.on('data', (chunk) => (output += chunk));
const exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));

const deadline = Date.now() + START_TIMEOUT_MS;
let url;
while (!url) {
  const match = /OWP coordinator listening on (http:\/\/\S+)/.exec(output);
  if (match) url = match[1].replace(/\/$/, '');
  else if (child.exitCode !== null) fail(`npm start exited (${child.exitCode}) before listening`, output);
  else if (Date.now() > deadline) {
    process.kill(-child.pid, 'SIGKILL');
    fail(`npm start did not listen within ${START_TIMEOUT_MS / 1000} s`, output);
  } else await new Promise((r) => setTimeout(r, 200));
}

const problems = [];
const health = await fetch(`${url}/healthz`);
if (health.status !== 200) problems.push(`/healthz answered ${health.status}`);
// Ready once the store is loaded and writes are accepted; the demo seeding may still be running.
let ready;
for (let i = 0; i < 50; i += 1) {
  ready = await fetch(`${url}/readyz`);
  if (ready.status === 200) break;
  await new Promise((r) => setTimeout(r, 200));
}
if (ready.status !== 200) problems.push(`/readyz answered ${ready.status}: ${await ready.text()}`);
const metrics = await fetch(`${url}/metrics`);
const text = await metrics.text();
if (metrics.status !== 200) problems.push(`/metrics answered ${metrics.status}`);
for (const series of ['owp_tasks', 'owp_operation_duration_seconds_bucket', 'process_cpu_seconds_total']) {
  if (!text.includes(series)) problems.push(`/metrics has no ${series}`);
}
const tasks = await fetch(`${url}/v1/tasks`, { headers: { authorization: 'Bearer not-a-token' } });
if (tasks.status !== 401) problems.push(`/v1/tasks with a bad token answered ${tasks.status}, not 401`);

process.kill(-child.pid, 'SIGINT');
const stopped = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), STOP_TIMEOUT_MS))]);
if (!stopped) {
  process.kill(-child.pid, 'SIGKILL');
  problems.push(`npm start did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGINT`);
} else if (!/Stopped\./.test(output)) {
  problems.push(`the coordinator did not report a clean stop (exit ${stopped.code ?? stopped.signal})`);
}
if (problems.length > 0) fail(problems.join('; '), output);
console.log(`check-start: npm start served ${url} (/healthz, /readyz and /metrics answered) and stopped cleanly`);
