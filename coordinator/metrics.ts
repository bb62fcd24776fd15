/**
 * Prometheus metrics (prom-client). Three registries, merged per scrape:
 *  - the process (prom-client's default process_* and nodejs_* series), once per process;
 *  - the pool: operation latency, journal commits (write + fsync), offer latency, lease lateness,
 *    task lead time, rate-limit refusals, and pool-wide gauges and counters read at scrape time;
 *  - per repo (the review budget's parts), built per scrape for the repos the scraper may see:
 *    repo names are not public (SPEC AUTH-001), so anonymous scrapes get none unless the
 *    operator says the pool is public (`metrics.public`).
 * Every duration is in seconds, every counter ends in `_total`.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JournalEvent } from '../protocol/journal-events.ts';
import { skipUnknownEvent } from '../protocol/unknown-event.ts';
import type { Ack, OperationName } from '../protocol/operations.ts';
import { budgetReserved } from '../protocol/vocabulary.ts';
import type { Principal } from './auth.ts';
import { scopeCovers } from './auth.ts';
import type { CoordinatorService } from './service.ts';
import type { ClusterStatus } from './cluster/node.ts';

/** Sub-millisecond to seconds: an in-memory read answers in well under 1 ms, an fsync in 1–20 ms. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Offers wait for a scheduler pass and an eligible worker: from milliseconds to minutes. */
const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** A lease is requeued by the sweep (every 250 ms by default): late by up to one sweep, in normal operation. */
const LATENESS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Task created → PR opened: minutes to days. */
const LEAD_TIME_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 604_800];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

let processRegistry: Registry | undefined;

/** The default process metrics, registered once per process (several coordinators may share one in tests). */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Who may see which repos' series in a scrape. */
export type MetricsScope = { kind: 'none' } | { kind: 'all' } | { kind: 'repos'; repos: readonly string[] };

export function metricsScopeOf(principal: Principal | 'metrics-token', publicRepos: boolean): MetricsScope {
  if (principal === 'metrics-token') return { kind: 'all' };
  if (principal.kind === 'maintainer') return principal.admin ? { kind: 'all' } : { kind: 'repos', repos: principal.repos };
  return publicRepos ? { kind: 'all' } : { kind: 'none' };
}

interface RepoBudgetView {
  settings: { repo: string };
  budget: { open_prs: number; live_leases: number; open_offers: number; max_open_prs: number; prs_last_hour: number; max_new_prs_per_hour: number; next_hourly_slot_at?: number; throttled: boolean };
}

const ADMIN: Principal = { kind: 'maintainer', id: 'metrics', repos: ['*'], admin: true };

export class CoordinatorMetrics {
  private readonly registry = new Registry();
  private readonly operationDuration: Histogram<'operation' | 'outcome'>;
  private readonly commitDuration: Histogram<'outcome'>;
  private readonly commitEvents: Histogram;
  private readonly offerLatency: Histogram;
  private readonly leaseLateness: Histogram;
  private readonly leadTime: Histogram;
  private readonly rateLimited: Counter<'binding'>;
  /** When each task last became ready, for offer latency (tasks that were ready before a restart are not measured). */
  private readonly readySince = new Map<string, number>();
  private readonly onJournal = (events: JournalEvent[]): void => this.observeJournal(events);
  private readonly onCommit = (commit: { seconds: number; events: number; ok: boolean }): void => {
    this.commitDuration.observe({ outcome: commit.ok ? 'ok' : 'error' }, commit.seconds);
    if (commit.ok) this.commitEvents.observe(commit.events);
  };

  constructor(private readonly runtime: CoordinatorService, options: { sockets?: () => number; cluster?: () => ClusterStatus } = {}) {
    processMetrics(); // from now, not from the first scrape (CPU time is counted from registration)
    const registers = [this.registry];
    this.operationDuration = new Histogram({
      name: 'owp_operation_duration_seconds',
      help: 'Time to answer an OWP operation, from receiving it to sending the answer (includes the fsync of a change). outcome is "ok" or the error code.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commitDuration = new Histogram({
      name: 'owp_journal_commit_duration_seconds',
      help: 'Time to write one group commit to the journal and fsync it.',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commitEvents = new Histogram({ name: 'owp_journal_commit_events', help: 'Events per group commit (one write and one fsync each).', buckets: BATCH_BUCKETS, registers });
    this.offerLatency = new Histogram({ name: 'owp_offer_latency_seconds', help: 'Time from a task becoming ready (created, requeued, unblocked) to its offer.', buckets: WAIT_BUCKETS, registers });
    this.leaseLateness = new Histogram({
      name: 'owp_lease_expiry_lateness_seconds',
      help: 'How long after its deadline an expired lease was requeued (bounded by the sweep interval).',
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.leadTime = new Histogram({ name: 'owp_task_lead_time_seconds', help: 'Time from a task\'s creation to its PR being reported opened.', buckets: LEAD_TIME_BUCKETS, registers });
    this.rateLimited = new Counter({ name: 'owp_rate_limited_total', help: 'Requests refused with RATE_LIMITED, by binding.', labelNames: ['binding'] as const, registers });

    const pool = (): ReturnType<CoordinatorService['engine']['metrics']> => this.runtime.engine.metrics();
    new Gauge({
      name: 'owp_tasks',
      help: 'Live tasks by state.',
      labelNames: ['state'] as const,
      registers,
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(pool().tasks_by_state)) this.set({ state }, n);
      },
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    };
    // Totals the coordinator keeps in its state (they survive restarts), exposed as counters.
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    };
    gauge('owp_workers_online', 'Workers with a live connection.', () => pool().workers_online);
    gauge('owp_workers_registered', 'Workers registered (including offline ones).', () => pool().workers_registered);
    gauge('owp_utilization_ratio', 'Capacity points leased divided by capacity points online (0-1).', () => pool().utilization);
    gauge('owp_requeue_ratio', 'Requeues divided by leases granted.', () => pool().requeue_rate);
    gauge('owp_pr_acceptance_ratio', 'Merged divided by merged plus closed PRs (0 before any outcome).', () => pool().pr_acceptance_rate ?? 0);
    gauge('owp_journal_last_seq', 'Sequence number of the last journaled event.', () => pool().journal_seq);
    gauge('owp_store_degraded', '1 while the store fails and changes are refused, else 0.', () => (this.runtime.isDegraded() ? 1 : 0));
    if (options.sockets) gauge('owp_socket_connections', 'Open socket.io connections.', options.sockets);
    counter('owp_leases_granted_total', 'Leases granted.', () => pool().leases_granted);
    counter('owp_requeues_total', 'Leases that returned their task to the queue (release, expiry, cancel).', () => pool().requeues);
    counter('owp_prs_opened_total', 'PRs reported opened with their gate evidence.', () => pool().prs_opened);
    counter('owp_prs_merged_total', 'PRs merged.', () => pool().prs_merged);
    counter('owp_prs_closed_total', 'PRs closed without merge.', () => pool().prs_closed);
    if (options.cluster) {
      // Each node reports its own role and copy; the leader also reports every follower's copy.
      const status = options.cluster;
      gauge('owp_cluster_leader', '1 on the node that leads the cluster (runs the engine), else 0.', () => (status().role === 'leader' ? 1 : 0));
      gauge('owp_cluster_term', 'The leadership term this node leads in, or the last one it saw; it goes up by one on every takeover.', () => status().term);
      gauge('owp_cluster_replication_lag_events', 'Events the leader has committed that this node\'s copy has not applied yet (0 on the leader).', () => status().lag.events);
      gauge('owp_cluster_replication_lag_seconds', 'How long this node\'s copy has been behind the leader\'s last known commit (0 when caught up, and on the leader).', () => status().lag.seconds);
      counter('owp_cluster_takeovers_total', 'Times this node took the leadership since it started.', () => status().takeovers);
      new Gauge({
        name: 'owp_cluster_leader_info',
        help: 'Which node leads the cluster as this node sees it (1, labelled with the leader\'s node id; nothing while no leader is known).',
        labelNames: ['node'] as const,
        registers,
        collect() {
          this.reset();
          const leader = status().leader.node;
          if (leader) this.set({ node: leader }, 1);
        },
      });
      new Counter({
        name: 'owp_cluster_follower_reads_total',
        help: 'Reads this node answered while following: from its own copy (served="copy"), or handed to the leader because its copy could not catch up in time (served="leader").',
        labelNames: ['served'] as const,
        registers,
        collect() {
          this.reset();
          const { local, handedOver } = status().reads;
          this.inc({ served: 'copy' }, local);
          this.inc({ served: 'leader' }, handedOver);
        },
      });
      new Gauge({
        name: 'owp_cluster_follower_lag_seconds',
        help: 'On the leader: how long each connected follower\'s copy has been behind, by node, as the follower last reported it (every renew interval).',
        labelNames: ['node'] as const,
        registers,
        collect() {
          this.reset();
          for (const f of status().followers) this.set({ node: f.node }, f.lagSeconds);
        },
      });
      new Gauge({
        name: 'owp_cluster_follower_lag_events',
        help: 'On the leader: how many committed events each connected follower\'s copy has not applied yet, by node (reported every renew interval).',
        labelNames: ['node'] as const,
        registers,
        collect() {
          this.reset();
          for (const f of status().followers) this.set({ node: f.node }, f.lagEvents);
        },
      });
    }

    runtime.on('journal', this.onJournal);
    runtime.on('commit', this.onCommit);
  }

  close(): void {
    this.runtime.off('journal', this.onJournal);
    this.runtime.off('commit', this.onCommit);
  }

  /** Starts timing an operation; call the returned function with its answer. */
  startOperation(name: OperationName): (ack: Ack<unknown>) => void {
    const started = performance.now();
    return (ack) => {
      this.operationDuration.observe({ operation: name, outcome: ack.ok ? 'ok' : ack.error.code }, (performance.now() - started) / 1000);
    };
  }

  countRateLimited(binding: 'http' | 'socket'): void {
    this.rateLimited.inc({ binding });
  }

  /** The scrape: process, pool and the per-repo series this scope may see, as Prometheus text. */
  async scrape(scope: MetricsScope): Promise<{ contentType: string; text: string }> {
    const merged = Registry.merge([processMetrics(), this.registry, this.repoRegistry(scope)]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }

  private repoRegistry(scope: MetricsScope): Registry {
    const registry = new Registry();
    if (scope.kind === 'none') return registry;
    const all: RepoBudgetView[] = [];
    // Every page of repo.list (PAGE-001): a pool may have more repos than one page holds.
    for (let cursor: string | undefined, more = true; more; ) {
      const outcome = this.runtime.engine.execute(ADMIN, 'repo.list', cursor ? { cursor } : {});
      const result = outcome.result as { repos?: RepoBudgetView[]; next_cursor?: string } | undefined;
      all.push(...(result?.repos ?? []));
      cursor = result?.next_cursor;
      more = cursor !== undefined;
    }
    const repos = scope.kind === 'all' ? all : all.filter((r) => scopeCovers(scope.repos, r.settings.repo));
    // The budget's parts and sums, named as every surface words them (protocol/vocabulary.ts): "reserved 4/5: 3 PRs · 1 lease · 0 offers".
    const series: Array<[string, string, (b: RepoBudgetView['budget']) => number | undefined]> = [
      ['owp_repo_budget_reserved', 'Reserved review budget: open PRs + live leases + open offers, against max_open_prs.', (b) => budgetReserved(b).open],
      ['owp_repo_budget_hourly_reserved', 'Reserved hourly budget: PRs opened in the last hour + live leases + open offers, against max_new_prs_per_hour.', (b) => budgetReserved(b).hourly],
      ['owp_repo_next_hourly_slot_timestamp_seconds', 'When the oldest PR of the rolling hour leaves it (Unix seconds); absent when none was opened in the last hour.', (b) => (b.next_hourly_slot_at === undefined ? undefined : b.next_hourly_slot_at / 1000)],
      ['owp_repo_open_prs', 'Open PRs (review budget part).', (b) => b.open_prs],
      ['owp_repo_live_leases', 'Live leases that may still become PRs (review budget part).', (b) => b.live_leases],
      ['owp_repo_open_offers', 'Open offers (review budget part).', (b) => b.open_offers],
      ['owp_repo_max_open_prs', 'max_open_prs: the limit on open PRs + live leases + open offers.', (b) => b.max_open_prs],
      ['owp_repo_prs_opened_last_hour', 'PRs opened in the last hour.', (b) => b.prs_last_hour],
      ['owp_repo_max_new_prs_per_hour', 'max_new_prs_per_hour: the limit on PRs opened in the last hour + live leases + open offers.', (b) => b.max_new_prs_per_hour],
      ['owp_repo_throttled', '1 when the repo\'s budget has no room for a new offer, else 0.', (b) => (b.throttled ? 1 : 0)],
    ];
    for (const [name, help, read] of series) {
      const gauge = new Gauge({ name, help, labelNames: ['repo'] as const, registers: [registry] });
      for (const r of repos) {
        const value = read(r.budget);
        if (value !== undefined) gauge.set({ repo: r.settings.repo }, value);
      }
    }
    return registry;
  }

  /** Offer latency, lease lateness and lead time from the journal; every event type says whether it moves one of them. */
  private observeJournal(events: readonly JournalEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'task.created':
        case 'task.unblocked':
          this.readySince.set(e.task_id, e.at);
          break;
        case 'offer.created': {
          const since = this.readySince.get(e.task_id);
          if (since !== undefined) this.offerLatency.observe(Math.max(0, e.at - since) / 1000);
          this.readySince.delete(e.task_id);
          break;
        }
        case 'lease.expired':
          this.leaseLateness.observe(Math.max(0, e.data.late_ms) / 1000);
          this.returned(e.task_id, e.data.to, e.at);
          break;
        case 'offer.declined':
        case 'offer.expired':
        case 'offer.withdrawn':
        case 'lease.released':
        case 'lease.cancelled':
          this.returned(e.task_id, e.data.to, e.at);
          break;
        case 'pr.opened': {
          const task = this.runtime.engine.state.tasks.get(e.task_id);
          if (task) this.leadTime.observe(Math.max(0, e.at - task.created_at) / 1000);
          break;
        }
        case 'lease.granted': {
          const since = e.data.via === 'direct' ? this.readySince.get(e.task_id) : undefined;
          if (since !== undefined) this.offerLatency.observe(Math.max(0, e.at - since) / 1000);
          this.readySince.delete(e.task_id);
          break;
        }
        case 'task.blocked':
        case 'task.merged':
        case 'task.closed':
        case 'task.archived':
          this.readySince.delete(e.task_id);
          break;
        // Not about a task waiting for an offer or its lead time.
        case 'pr.attached':
        case 'pr.checks_updated':
        case 'pr.checks_timed_out':
        case 'task.updated':
        case 'task.started':
        case 'repo.configured':
        case 'maintainer.created':
        case 'maintainer.revoked':
        case 'worker.registered':
        case 'worker.token_rotated':
        case 'worker.updated':
        case 'worker.trust_changed':
        case 'worker.revoked':
        case 'worker.connected':
        case 'worker.disconnected':
        case 'worker.heartbeat_lost':
        case 'coordinator.started':
        case 'policy.dry_run_hit':
        case 'contributor.standing_set':
        case 'budget.adapted':
          break;
        default:
          skipUnknownEvent(e);
      }
    }
  }

  /** A task sent back to ready starts waiting for an offer again; one sent to blocked does not. */
  private returned(taskId: string, to: 'ready' | 'blocked', at: number): void {
    if (to === 'ready') this.readySince.set(taskId, at);
    else this.readySince.delete(taskId);
  }
}
