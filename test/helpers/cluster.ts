/**
 * A real cluster for tests: a throwaway PostgreSQL (postgres.ts), and coordinator nodes started as
 * `owp coordinator --store postgres` processes, each reaching the database through a TCP proxy of
 * its own (so one node's database link can be cut or blackholed alone), and a balancer: one TCP
 * port that hands each new connection to a node that is up, round-robin, as a load balancer in
 * front of a cluster does (WebSocket only, so no sticky sessions are needed).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { spawnCoordinator, type CoordinatorProcess } from './process.ts';
import { freePort, startPostgres, type TestPostgres } from './postgres.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface ClusterNodeProcess {
  id: string;
  proc: CoordinatorProcess;
  url: string;
  /** This node's link to PostgreSQL. */
  db: TcpProxy;
  /** SIGSTOPped: in the balancer no more until SIGCONT. */
  paused: boolean;
  /** With `ingress`: the address the other nodes reach this one at (its relay link), a proxy that can be cut. */
  ingress?: TcpProxy;
}

export interface NodeStatus {
  leader: boolean;
  term: number;
  lagEvents: number;
}

export interface TestCluster {
  pg: TestPostgres;
  databaseUrl: string;
  token: string;
  nodes: ClusterNodeProcess[];
  /** What clients connect to: a node that is up, round-robin. */
  balancerUrl: string;
  leaseMs: number;
  startNode(id: string): Promise<ClusterNodeProcess>;
  /** The node's view of the cluster from its /metrics, or null when it does not answer. */
  status(node: ClusterNodeProcess): Promise<NodeStatus | null>;
  /** Waits until exactly one answering node leads, in a term above `afterTerm`; returns it. */
  waitForLeader(afterTerm: number, timeoutMs: number): Promise<{ node: ClusterNodeProcess; term: number }>;
  /** Direct SQL on the cluster's database (not through any node's proxy). */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** What each node logged about leading (took over, stepped down and why), and its warnings and errors: for a failure's message. */
  leadingLog(): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  dir: string;
  token: string;
  nodes: number;
  leaseMs?: number;
  renewIntervalMs?: number;
  /** The coordinator's config file (YAML). */
  config?: string;
  /** Each node advertises a TCP proxy in front of it to the others (ClusterNodeProcess.ingress). */
  ingress?: boolean;
  /** Every node's database link forwards each chunk this late, both ways, from the node's first connection. */
  dbDelayMs?: number;
}

export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const leaseMs = options.leaseMs ?? 1500;
  const renewMs = options.renewIntervalMs ?? 300;
  const server = await startPostgres();
  const databaseUrl = await server.database();
  const dbName = new URL(databaseUrl).pathname.slice(1);
  const configFile = join(options.dir, 'cluster.yml');
  writeFileSync(configFile, options.config ?? 'sweep_interval_ms: 50\n');
  const nodes: ClusterNodeProcess[] = [];
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  admin.on('error', () => undefined);

  const startNode = async (id: string): Promise<ClusterNodeProcess> => {
    const db = await startTcpProxy(server.url);
    if (options.dbDelayMs) db.delay(options.dbDelayMs);
    const viaProxy = `postgres://postgres@127.0.0.1:${new URL(db.url).port}/${dbName}`;
    const dataDir = join(options.dir, id);
    mkdirSync(dataDir, { recursive: true });
    const port = options.ingress ? await freePort() : 0;
    const ingress = options.ingress ? await startTcpProxy(`http://127.0.0.1:${port}`) : undefined;
    const proc = await spawnCoordinator(
      ['--port', String(port), ...(ingress ? ['--advertise-url', ingress.url] : []), '--store', 'postgres', '--node-id', id, '--data-dir', dataDir, '--config', configFile, '--leader-lease-ms', String(leaseMs), '--leader-renew-interval-ms', String(renewMs)],
      { OWP_ADMIN_TOKEN: options.token, OWP_DATABASE_URL: viaProxy, OWP_LOG_LEVEL: 'info' },
    );
    // No node outlives the test process, however the test ends.
    const reap = (): void => void proc.child.kill('SIGKILL');
    process.once('exit', reap);
    proc.child.once('exit', () => process.off('exit', reap));
    const node: ClusterNodeProcess = { id, proc, url: proc.url, db, paused: false, ...(ingress ? { ingress } : {}) };
    const at = nodes.findIndex((n) => n.id === id);
    if (at >= 0) nodes[at] = node;
    else nodes.push(node);
    return node;
  };

  const up = (): ClusterNodeProcess[] => nodes.filter((n) => !n.paused && n.proc.child.exitCode === null && n.proc.child.signalCode === null);
  let next = 0;
  const sockets = new Set<Socket>();
  const balancer: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const candidates = up();
    const target = candidates[(next += 1) % Math.max(1, candidates.length)];
    if (!target) return void client.destroy();
    const upstream = connect(Number(new URL(target.url).port), '127.0.0.1');
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop).on('close', drop);
    client.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  const balancerUrl = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;

  const status = async (node: ClusterNodeProcess): Promise<NodeStatus | null> => {
    if (node.paused) return null;
    try {
      const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${options.token}` }, signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { leader: metric('owp_cluster_leader') === 1, term: metric('owp_cluster_term'), lagEvents: metric('owp_cluster_replication_lag_events') };
    } catch {
      return null;
    }
  };

  try {
    for (let i = 1; i <= options.nodes; i += 1) await startNode(`n${i}`);
  } catch (error) {
    for (const n of nodes) await n.proc.stop('SIGKILL');
    await server.stop();
    throw error;
  }

  return {
    pg: server,
    databaseUrl,
    token: options.token,
    nodes,
    balancerUrl,
    leaseMs,
    startNode,
    status,
    async waitForLeader(afterTerm, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = await Promise.all(up().map(async (node) => ({ node, s: await status(node) })));
        const leaders = seen.filter((x) => x.s?.leader && x.s.term > afterTerm);
        if (leaders.length === 1) return { node: (leaders[0] as { node: ClusterNodeProcess }).node, term: (leaders[0] as { s: NodeStatus }).s.term };
        if (Date.now() > deadline) throw new Error(`no single leader in a term above ${afterTerm} within ${timeoutMs} ms: ${JSON.stringify(seen.map((x) => ({ id: x.node.id, ...x.s })))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async query(sql, params = []) {
      return (await admin.query(sql, params)).rows;
    },
    leadingLog() {
      const said = (l: string): boolean => l.includes('"msg":"cluster:') || /"level":"(warn|error|fatal)"/.test(l);
      return nodes.flatMap((n) => n.proc.output().split('\n').filter(said).slice(-40).map((l) => `${n.id}: ${l}`)).join('\n');
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => balancer.close(() => resolve()));
      for (const n of nodes) {
        if (n.paused) n.proc.child.kill('SIGCONT');
        await n.proc.stop('SIGKILL');
        await n.db.close();
        await n.ingress?.close();
      }
      await admin.end().catch(() => undefined);
      await server.stop();
    },
  };
}
