/** `owp coordinator`: run the reference coordinator on its embedded store. */
import { resolve } from 'node:path';
import { DEFAULT_CONFIG, loadConfigFile, type CoordinatorConfig } from '../../coordinator/config.ts';
import { createLogger, parseLogLevel } from '../../coordinator/log.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { seedDemo, DEMO_REPO } from '../../coordinator/seed.ts';
import { intFlag, parse, UsageError } from '../args.ts';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import { startDemoVolunteers } from '../demo-volunteers.ts';

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

export const USAGE = `Usage: owp coordinator [--port N] [--host H] [--data-dir DIR] [--config FILE] [--store lowdb|memory] [--log-level L] [--seed-demo [--demo-volunteers N]]

Runs the OWP coordinator (socket.io + HTTP on one port) on its embedded lowdb store.
  --port N          port to listen on (default ${DEFAULT_CONFIG.port}; 0 picks a free one)
  --host H          address to bind (default ${DEFAULT_CONFIG.host})
  --data-dir DIR    where state.json and journal.jsonl live (default ${DEFAULT_CONFIG.data_dir})
  --config FILE     YAML or JSON settings (see README, "Configuration")
  --store KIND      lowdb (default, durable) or memory (nothing kept)
  --log-level L     fatal, error, warn, info (default), debug (every request) or trace; also OWP_LOG_LEVEL
  --seed-demo       create the demo repo ${DEMO_REPO} with ready tasks if it does not exist
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
    'log-level': { type: 'string' },
    'seed-demo': { type: 'boolean' },
    'demo-volunteers': { type: 'string' },
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
    if (values.store !== 'lowdb' && values.store !== 'memory') throw new UsageError('--store must be lowdb or memory.');
    config.store = values.store;
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
  const volunteers = values['seed-demo'] && values['demo-volunteers'] !== undefined
    ? await startDemoVolunteers(url, started.adminToken, intFlag(values['demo-volunteers'], 'demo-volunteers', 0), (line) => log.info({ component: 'demo' }, line))
    : undefined;
  log.info({ url, store: started.config.store, data_dir: started.config.store === 'memory' ? undefined : resolve(started.config.data_dir), seq: coordinator.runtime.engine.state.seq }, 'coordinator listening');
  console.log(`OWP coordinator listening on ${url}`);
  // The token-carrying link goes only to a person at a terminal, never into a service's log.
  console.log(`  dashboard   ${process.stdout.isTTY ? dashboardUrl(url, started.adminToken) : `${url}/  (sign in with the admin token)`}`);
  console.log(`  health      ${url}/healthz    ready ${url}/readyz    metrics ${url}/metrics`);
  console.log(`  store       ${started.config.store === 'memory' ? 'memory (nothing is kept)' : resolve(started.config.data_dir)}`);
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

  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      volunteers?.close();
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
