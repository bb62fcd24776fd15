/** `owp coordinator`: run the reference coordinator on its embedded store, or as a node of a cluster on PostgreSQL. */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkCluster, DEFAULT_CLUSTER_CONFIG, DEFAULT_CONFIG, loadConfigFile, type CoordinatorConfig } from '../../coordinator/config.ts';
import { createLogger, parseLogLevel } from '../../coordinator/log.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { seedDemo, DEMO_REPO } from '../../coordinator/seed.ts';
import { intFlag, parse, UsageError } from '../args.ts';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import type { DemoGitHub } from '../demo-github.ts';

/**
 * On a loopback address the dashboard link carries the admin token in its fragment (never sent
 * to the server; the page stores it for the tab and clears the address bar), like Jupyter's
 * login link. On any other address the token is not printed: sign in on the page with it.
 */
export function dashboardUrl(url: string, adminToken: string): string {
  const host = new URL(url).hostname;
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
  return loopback ? `${url}/#token=${encodeURIComponent(adminToken)}` : `${url}/  (sign in with the admin token)`;
}

export const USAGE = `Usage: owp coordinator [--port N] [--host H] [--data-dir DIR] [--config FILE] [--store lowdb|memory|postgres] [--log-level L] [--seed-demo [--demo-volunteers N] [--demo-github-port N]]
       owp coordinator --store postgres [--database-url URL] [--node-id ID] [--advertise-url URL] [--leader-lease-ms N] [--leader-renew-interval-ms N]

Runs the OWP coordinator (socket.io + HTTP on one port) on its embedded lowdb store, or as a node
of a cluster on PostgreSQL: start any number of nodes on one database; one leads, the others follow
and serve too (README, "Running a cluster").
  --port N          port to listen on (default ${DEFAULT_CONFIG.port}; 0 picks a free one)
  --host H          address to bind (default ${DEFAULT_CONFIG.host})
  --data-dir DIR    where state.json and journal.jsonl live (default ${DEFAULT_CONFIG.data_dir}); with postgres only the admin token
  --config FILE     YAML or JSON settings (see README, "Configuration")
  --store KIND      lowdb (default, durable), memory (nothing kept) or postgres (a cluster node)
  --log-level L     fatal, error, warn, info (default), debug (every request) or trace; also OWP_LOG_LEVEL

Cluster (with --store postgres; config file: database_url and the cluster: section):
  --database-url URL           postgres://user:password@host:5432/db; better in OWP_DATABASE_URL (it may hold a password)
  --node-id ID                 this node's name in the lease, logs and metrics (default host-pid-random)
  --advertise-url URL          how the other nodes reach this one (default: the URL it listens on)
  --leader-lease-ms N          a silent leader is replaced after this long (default ${DEFAULT_CLUSTER_CONFIG.leader_lease_ms})
  --leader-renew-interval-ms N the leader renews, standbys look for a lapsed lease, this often (default ${DEFAULT_CLUSTER_CONFIG.leader_renew_interval_ms})
  --seed-demo       create the demo repo ${DEMO_REPO} with ready tasks if it does not exist, a real
                    git remote for it (<data dir>/demo/) and a local GitHub-shaped server that
                    knows it, and print the git clone / owp worker / owp submit lines for a volunteer
  --demo-github-port N  with --seed-demo: the GitHub-shaped server's port (default: the coordinator's + 1; 0 with --port 0)
  --demo-volunteers N  with --seed-demo: run N (up to 4) simulated volunteers and a reviewer in this process
Logs go to stderr: JSON lines, or readable lines on a terminal. SIGTERM or Ctrl-C stops it cleanly
(pending writes finish, a snapshot is taken).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    store: { type: 'string' },
    'database-url': { type: 'string' },
    'node-id': { type: 'string' },
    'advertise-url': { type: 'string' },
    'leader-lease-ms': { type: 'string' },
    'leader-renew-interval-ms': { type: 'string' },
    'log-level': { type: 'string' },
    'seed-demo': { type: 'boolean' },
    'demo-volunteers': { type: 'string' },
    'demo-github-port': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let config: Partial<CoordinatorConfig> = {};
  if (values.config) config = loadConfigFile(resolve(values.config));
  if (values.port !== undefined) config.port = intFlag(values.port, 'port', DEFAULT_CONFIG.port);
  if (values.host !== undefined) config.host = values.host;
  if (values['data-dir'] !== undefined) config.data_dir = values['data-dir'];
  if (values.store !== undefined) {
    if (values.store !== 'lowdb' && values.store !== 'memory' && values.store !== 'postgres') throw new UsageError('--store must be lowdb, memory or postgres.');
    config.store = values.store;
  }
  if (values['database-url'] !== undefined) config.database_url = values['database-url'];
  const clusterFlags = {
    ...(values['node-id'] !== undefined ? { node_id: values['node-id'] } : {}),
    ...(values['advertise-url'] !== undefined ? { advertise_url: values['advertise-url'] } : {}),
    ...(values['leader-lease-ms'] !== undefined ? { leader_lease_ms: intFlag(values['leader-lease-ms'], 'leader-lease-ms', DEFAULT_CLUSTER_CONFIG.leader_lease_ms) } : {}),
    ...(values['leader-renew-interval-ms'] !== undefined ? { leader_renew_interval_ms: intFlag(values['leader-renew-interval-ms'], 'leader-renew-interval-ms', DEFAULT_CLUSTER_CONFIG.leader_renew_interval_ms) } : {}),
  };
  if (Object.keys(clusterFlags).length > 0) {
    try {
      config.cluster = checkCluster({ ...config.cluster, ...clusterFlags });
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/cluster\.(\w+)/g, (_m, key: string) => `--${key.replaceAll('_', '-')}`));
    }
  }
  const level = values['log-level'] ?? process.env.OWP_LOG_LEVEL;
  const logConfig = { ...DEFAULT_CONFIG.log, ...config.log };
  if (level !== undefined) {
    try {
      logConfig.level = parseLogLevel(level, values['log-level'] !== undefined ? '--log-level' : 'OWP_LOG_LEVEL');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const log = createLogger(logConfig);
  const started = await startCoordinator({ config, staticHandler: dashboardStaticHandler(), log });
  const { coordinator, url, adminTokenFile } = started;
  for (const warning of coordinator.runtime.warnings) log.warn({ warning }, `recovered: ${warning}`);
  if (values['seed-demo']) {
    const admin = coordinator.runtime.authenticate(started.adminToken);
    if (admin && (await seedDemo(coordinator.runtime, admin))) console.log(`Seeded ${DEMO_REPO} with demo tasks.`);
  }
  let demoGitHub: DemoGitHub | undefined;
  if (values['seed-demo']) {
    const port = Number(new URL(url).port);
    const githubPort = intFlag(values['demo-github-port'], 'demo-github-port', values.port === '0' ? 0 : port + 1);
    // Without it the coordinator still serves; only the volunteer's lines are left out, never printed as if they worked.
    // The demo's GitHub-shaped server (GraphQL included) and volunteers load only with --seed-demo.
    const { startDemoGitHub } = await import('../demo-github.ts');
    demoGitHub = await startDemoGitHub({ dataDir: resolve(started.config.data_dir), coordinatorUrl: url, host: new URL(url).hostname, port: githubPort }).catch((error: unknown) => {
      log.warn({ err: error }, `no volunteer path: ${(error as Error).message}`);
      console.log(`  (no volunteer path this run: ${(error as Error).message})`);
      return undefined;
    });
  }
  const volunteers = values['seed-demo'] && values['demo-volunteers'] !== undefined
    ? await (await import('../demo-volunteers.ts')).startDemoVolunteers(url, started.adminToken, intFlag(values['demo-volunteers'], 'demo-volunteers', 0), (line) => log.info({ component: 'demo' }, line), demoGitHub?.github)
    : undefined;
  const { node } = started;
  // started_in_ms: from the process's start (Node, loading the code, recovery, listening) to here.
  log.info({ url, started_in_ms: Math.round(performance.now()), store: started.config.store, data_dir: started.config.store === 'lowdb' ? resolve(started.config.data_dir) : undefined, seq: coordinator.runtime.engine.state.seq, ...(node ? { node: node.nodeId, role: node.status().role } : {}) }, 'coordinator listening');
  console.log(`OWP coordinator listening on ${url}`);
  // The token-carrying link goes only to a person at a terminal, never into a service's log.
  console.log(`  dashboard   ${process.stdout.isTTY ? dashboardUrl(url, started.adminToken) : `${url}/  (sign in with the admin token)`}`);
  console.log(`  health      ${url}/healthz    ready ${url}/readyz    metrics ${url}/metrics`);
  console.log(`  store       ${started.config.store === 'memory' ? 'memory (nothing is kept)' : node ? `postgres, node ${node.nodeId}, ${node.status().role === 'leader' ? 'leading' : `following ${node.status().leader.node ?? '?'}`}` : resolve(started.config.data_dir)}`);
  if (started.github) {
    const repos = started.github.context.repos().map((r) => r.config.repo).join(', ');
    console.log(`  github      ${repos}; webhooks at ${url}${started.github.context.config.webhook_path}`);
  }
  const tokenSource = adminTokenFile
    ? `in ${adminTokenFile} (mode 0600)`
    : process.env.OWP_ADMIN_TOKEN
      ? 'from OWP_ADMIN_TOKEN'
      : process.stdout.isTTY
        ? `${started.adminToken} (generated for this run; nothing is kept)`
        : 'generated for this run and not printed (stdout is not a terminal); set OWP_ADMIN_TOKEN to choose it';
  console.log(`  admin token ${tokenSource}`);
  if (demoGitHub) {
    const lines = demoGitHub.volunteerLines;
    console.log(`  demo github ${demoGitHub.github.htmlUrl}: a GitHub-shaped server for ${DEMO_REPO} (API ${demoGitHub.github.url}), remote ${demoGitHub.remote}`);
    console.log('\nTry the volunteer path (README, "Your first task as a volunteer"). In another terminal, here:');
    console.log(`  ${lines.clone}\n  ${lines.worker}`);
    console.log('Press a to accept the offer. Make a change in the task\'s worktree (owp worker prints it), then, in a third terminal, here:');
    console.log(`  ${lines.submit}\n  ${lines.status}`);
  }

  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      volunteers?.close();
      void demoGitHub?.github.close();
      console.log(`\n${signal}: stopping; finishing writes and taking a snapshot…`);
      void coordinator.close().then(done, (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        done();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.info('coordinator stopped');
  console.log('Stopped.');
  return 0;
}
