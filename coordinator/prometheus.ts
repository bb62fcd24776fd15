/** Prometheus text exposition (format 0.0.4) of the pool's metrics and each repo's budget. */
import type { Engine } from './engine/engine.ts';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function prometheusText(engine: Engine): string {
  const m = engine.metrics();
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: Array<[Record<string, string>, number | null]>, type = 'gauge'): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      if (value === null) continue;
      const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  };
  gauge('owp_tasks', 'Live tasks by state.', Object.entries(m.tasks_by_state).map(([state, n]) => [{ state }, n]));
  gauge('owp_workers_online', 'Workers connected now.', [[{}, m.workers_online]]);
  gauge('owp_workers_registered', 'Workers ever registered.', [[{}, m.workers_registered]]);
  gauge('owp_utilization_ratio', 'Capacity points leased divided by capacity points online.', [[{}, m.utilization]]);
  gauge('owp_lead_time_ms', 'Task created to PR opened.', [[{ quantile: '0.5' }, m.lead_time_ms_median], [{ quantile: '0.9' }, m.lead_time_ms_p90]]);
  gauge('owp_requeue_ratio', 'Requeues divided by leases granted.', [[{}, m.requeue_rate]]);
  gauge('owp_pr_acceptance_ratio', 'Merged divided by merged plus closed PRs.', [[{}, m.pr_acceptance_rate]]);
  gauge('owp_leases_granted_total', 'Leases granted.', [[{}, m.leases_granted]], 'counter');
  gauge('owp_requeues_total', 'Leases that returned their task to the queue.', [[{}, m.requeues]], 'counter');
  gauge('owp_prs_opened_total', 'PRs reported opened with their gate evidence.', [[{}, m.prs_opened]], 'counter');
  gauge('owp_prs_merged_total', 'PRs merged.', [[{}, m.prs_merged]], 'counter');
  gauge('owp_prs_closed_total', 'PRs closed without merge.', [[{}, m.prs_closed]], 'counter');
  gauge('owp_journal_seq', 'Last journal sequence number.', [[{}, m.journal_seq]]);
  const repos = [...engine.state.repos.values()].map((r) => ({ repo: r.settings.repo, budget: engine.budget(r) }));
  gauge('owp_repo_open_prs', 'Open PRs per repo.', repos.map((r) => [{ repo: r.repo }, r.budget.open_prs]));
  gauge('owp_repo_live_leases', 'Live leases per repo.', repos.map((r) => [{ repo: r.repo }, r.budget.live_leases]));
  gauge('owp_repo_max_open_prs', 'Review budget per repo.', repos.map((r) => [{ repo: r.repo }, r.budget.max_open_prs]));
  gauge('owp_repo_prs_last_hour', 'PRs opened in the last hour per repo.', repos.map((r) => [{ repo: r.repo }, r.budget.prs_last_hour]));
  gauge('owp_repo_throttled', '1 when the repo has no budget room for a new offer.', repos.map((r) => [{ repo: r.repo }, r.budget.throttled ? 1 : 0]));
  const mem = process.memoryUsage();
  gauge('owp_process_resident_memory_bytes', 'Resident memory of the coordinator.', [[{}, mem.rss]]);
  return `${lines.join('\n')}\n`;
}
