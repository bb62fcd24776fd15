/** `owp conformance`: run the OWP conformance kit against any running implementation, over the wire. */
import { writeFileSync } from 'node:fs';
import { REQUIREMENTS } from '../../conformance/requirements.ts';
import { REFERENCE_COVERAGE } from '../../conformance/reference-coverage.ts';
import { formatText, toJson, toJunit } from '../../conformance/report.ts';
import { levelOf, runSuite, SetupError } from '../../conformance/runner.ts';
import { ALL_SUITES } from '../../conformance/suites.ts';
import type { Level, SuiteReport } from '../../conformance/types.ts';
import { CLIENT_CHECKS } from '../../conformance/client/checks.ts';
import { ClientSetupError } from '../../conformance/client/run.ts';
import { runClientMode } from '../conformance-client.ts';
import { startKitGitHub } from '../conformance-github.ts';
import { intFlag, parse, UsageError } from '../args.ts';

export const USAGE = `Usage: owp conformance --url URL --token TOKEN [--level must|should|may] [--only ID,…] [--report FILE] [--junit FILE] [--list]
       owp conformance --client [--client-cmd CMD] [--url URL --token TOKEN] [--report FILE]

Runs the OWP conformance kit against a running coordinator over socket.io and HTTP only, in a
repo namespace of its own (owp-conformance-<random>/…), and reports every requirement id of
protocol/SPEC.md with its section and level. Exits 1 when a MUST requirement fails; SHOULD and
MAY failures are warnings. Tests of an optional capability run only when coordinator.info
declares it. Run it against a test instance: it registers workers and creates tasks.
  --url URL          the coordinator's base URL (HTTP and socket.io), e.g. http://127.0.0.1:8787
                     (--sut-url is the same, as in A2A's TCK)
  --token TOKEN      a maintainer token scoped to "*" (the coordinator's admin token); or OWP_TOKEN
  --level LEVEL      run tests of this level and stronger: must, should or may (default may: all)
  --only IDS         comma-separated requirement ids, id prefixes (LEASE) or areas (auth)
  --report FILE      write the results as JSON to FILE, and JUnit XML next to it (FILE.xml)
  --junit FILE       write JUnit XML to FILE
  --invite CODE      invite code, for coordinators with closed registration
  --concurrency N    tests run at once (default 4)
  --github-repo R    capability github-sync: the kit starts a GitHub-shaped server serving the repo R
                     (owner/name) on --github-port; configure the coordinator beforehand to sync R
                     from http://127.0.0.1:PORT with --github-token (label --github-label, default owp)
  --github-port P    the port of that server (required with --github-repo)
  --github-token T   the token the coordinator calls it with (default owp-conformance-github)
  --github-label L   the label that makes an issue a task (default owp)
  --list             list the requirements and the tests that cover them, and exit
  --verbose          show passing tests too

Client mode (--client) checks a worker implementation instead (SPEC §5.15, CLIENT-*): it starts a
conformance coordinator (the reference, in this process, unless --url names one), prints its URL
and waits for a worker to register and connect there; then it offers the worker tasks in a repo
of its own, drops the answer to an accept, cancels a lease and stalls the link until another
expires, and reports whether the worker said hello first, heartbeated in time, accepted within
the offer deadline, stopped acting on cancelled and lost leases, kept the granted epoch and
retried with the same idempotency key.
  --client-cmd CMD   start the worker under test with this shell command instead of waiting for
                     one; {url} is the coordinator's URL, {repo} the repo, {dir} a git clone of it
                     (origin: a local bare repository named like it), e.g.
                     "owp worker --coordinator {url} --github-login me --auto-accept --repo-dir {dir}"
  --connect-timeout S  seconds to wait for the worker's hello (default 60 with --client-cmd, else 600)
  --client-log       show the started worker's output`;

function parseLevel(value: string | undefined): Level {
  if (value === undefined) return 'MAY';
  const upper = value.toUpperCase();
  if (upper !== 'MUST' && upper !== 'SHOULD' && upper !== 'MAY') throw new UsageError(`--level must be must, should or may, got "${value}".`);
  return upper;
}

function list(): string {
  const lines: string[] = [];
  for (const req of REQUIREMENTS) {
    lines.push(`${req.id.padEnd(12)} ${req.section.padEnd(6)} ${req.level.padEnd(6)} ${req.title}`);
    for (const suite of ALL_SUITES) {
      for (const test of suite.tests.filter((t) => t.requirement === req.id)) {
        lines.push(`    [${suite.area}] ${levelOf(test)}${test.capability ? ` (capability ${test.capability})` : ''} ${test.title}`);
      }
    }
    const client = CLIENT_CHECKS.find((c) => c.requirement === req.id);
    if (client) lines.push(`    [client] ${client.title} (owp conformance --client)`);
    const reference = REFERENCE_COVERAGE[req.id];
    if (reference) lines.push(`    not testable over the wire (${reference.why}); reference: ${reference.file}`);
  }
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    url: { type: 'string' },
    'sut-url': { type: 'string' },
    token: { type: 'string' },
    level: { type: 'string' },
    only: { type: 'string' },
    report: { type: 'string' },
    junit: { type: 'string' },
    invite: { type: 'string' },
    concurrency: { type: 'string' },
    list: { type: 'boolean' },
    client: { type: 'boolean' },
    'github-repo': { type: 'string' },
    'github-port': { type: 'string' },
    'github-token': { type: 'string' },
    'github-label': { type: 'string' },
    'client-cmd': { type: 'string' },
    'connect-timeout': { type: 'string' },
    'client-log': { type: 'boolean' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list) {
    console.log(list());
    return 0;
  }
  const token = values.token ?? process.env.OWP_TOKEN;
  const url = values.url ?? values['sut-url'];
  if (values.client) {
    const seconds = values['connect-timeout'] === undefined ? (values['client-cmd'] ? 60 : 600) : intFlag(values['connect-timeout'], 'connect-timeout', 60);
    let clientReport;
    try {
      clientReport = await runClientMode({
        ...(url ? { url } : {}),
        ...(url && token ? { token } : {}),
        ...(values['client-cmd'] ? { clientCmd: values['client-cmd'] } : {}),
        connectTimeoutMs: seconds * 1000,
        ...(values['client-log'] ? { log: (chunk: string) => process.stderr.write(chunk) } : {}),
        onResult: (r) => {
          if (r.status === 'fail' || r.status === 'warn') process.stderr.write(`  ${r.status.toUpperCase()} ${r.requirement} ${r.title}\n`);
        },
      });
    } catch (error) {
      if (error instanceof ClientSetupError) {
        console.error(`owp conformance --client: ${error.message}`);
        return 3;
      }
      throw error;
    }
    return writeReports(clientReport, values);
  }
  if (!url) throw new UsageError(`--url is required.\n\n${USAGE}`);
  if (!token) throw new UsageError(`--token (or OWP_TOKEN) is required: the coordinator's admin token.\n\n${USAGE}`);
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const unknown = (only ?? []).filter((id) => !ALL_SUITES.some((suite) => suite.area === id || suite.tests.some((t) => t.requirement === id || t.requirement.startsWith(`${id}-`))));
  if (unknown.length > 0) throw new UsageError(`--only ${unknown.join(', ')} matches no conformance test. See owp conformance --list for the ids and areas.`);
  let kitGitHub: Awaited<ReturnType<typeof startKitGitHub>> | undefined;
  if (values['github-repo']) {
    const port = intFlag(values['github-port'], 'github-port', 0);
    if (port === 0) throw new UsageError('--github-port is required with --github-repo: the coordinator under test must know where the kit\'s GitHub-shaped server listens.');
    kitGitHub = await startKitGitHub({ repo: values['github-repo'], port, token: values['github-token'] ?? 'owp-conformance-github', label: values['github-label'] ?? 'owp' });
  }
  let report;
  try {
    report = await runSuite({
      ...(kitGitHub ? { github: kitGitHub.github } : {}),
      url,
      token,
      level: parseLevel(values.level),
      ...(only ? { only } : {}),
      ...(values.invite ? { invite: values.invite } : {}),
      concurrency: intFlag(values.concurrency, 'concurrency', 4) || 1,
      onResult: (r) => {
        if (r.status === 'fail' || r.status === 'warn') process.stderr.write(`  ${r.status.toUpperCase()} ${r.requirement} ${r.title}\n`);
      },
    });
  } catch (error) {
    if (error instanceof SetupError) {
      console.error(`owp conformance: ${error.message}`);
      return 3;
    }
    throw error;
  } finally {
    await kitGitHub?.server.close();
  }
  return writeReports(report, values);
}

function writeReports(report: SuiteReport, values: { verbose?: boolean | undefined; report?: string | undefined; junit?: string | undefined }): number {
  console.log(formatText(report, { verbose: values.verbose === true }));
  if (values.report) {
    writeFileSync(values.report, toJson(report));
    const junit = values.junit ?? `${values.report.replace(/\.json$/i, '')}.xml`;
    writeFileSync(junit, toJunit(report));
    console.log(`Wrote ${values.report} and ${junit}.`);
  } else if (values.junit) {
    writeFileSync(values.junit, toJunit(report));
    console.log(`Wrote ${values.junit}.`);
  }
  return report.summary.fail > 0 ? 1 : 0;
}
