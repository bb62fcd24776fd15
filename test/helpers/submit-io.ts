/**
 * The editor's side of Submit PR (extension/logic/submit-steps.ts's SubmitIO) for tests without
 * VS Code: a checkout read and written with real git (as VS Code's Git would see it), a pool
 * session holding one lease whose reports are recorded, notices recorded and answered from a
 * script, and the volunteer's token. Everything else in the flow is the real code.
 */
import type { Lease, PullRequestInfo, Task } from '../../protocol/model.ts';
import type { PushMode } from '../../client/fork.ts';
import { commitAll, git, push } from '../../client/git.ts';
import type { Checkout, Notice, SubmitIO, SubmitNote } from '../../extension/logic/submit-steps.ts';
import type { Approvals } from '../../client/command-approval.ts';

export interface ScriptedSubmit {
  told: Notice[];
  /** Answers to notices whose text matches. */
  answers: Map<RegExp, string>;
  /** `push` (the checkout's own push, i.e. VS Code's Git) and `report`, in order. */
  ran: string[];
  reports: PullRequestInfo[];
  failReport: boolean;
  trusted: boolean;
  /** Approved contract commands, and whether the volunteer approves the next ones shown. */
  approvals: Approvals | undefined;
  approveCommands: boolean;
  shownCommands: Array<{ repo: string; hash: string; lines: string[] }>;
  note: SubmitNote;
  io: SubmitIO;
}

export interface ScriptedSubmitOptions {
  repo: string;
  dir: string;
  branch: string;
  base: string;
  baseCommit: string;
  githubApiUrl: string;
  token: string;
  login: string;
  pushTarget?: PushMode;
  task?: Partial<Task>;
}

const ME = { name: 'Alice', email: 'alice@example.invalid' };

export function scriptedSubmit(o: ScriptedSubmitOptions): ScriptedSubmit {
  const lease: Lease = { lease_id: 'L-1', task_id: 'T-1', worker_id: 'W-1', repo: o.repo, epoch: 1, granted_at: 0, expires_at: Date.now() + 60_000, max_deadline_at: Date.now() + 3_600_000, heartbeat_interval_ms: 10_000 };
  const task = { id: 'T-1', repo: o.repo, title: 'Fix the typo', body: 'A typo in the README.', state: 'in_progress', issue: { number: 7, url: `https://github.com/${o.repo}/issues/7` }, ...o.task } as unknown as Task;
  const w: ScriptedSubmit = { told: [], answers: new Map(), ran: [], reports: [], failReport: false, trusted: true, approvals: undefined, approveCommands: true, shownCommands: [], note: { branch: o.branch, base: o.base, baseCommit: o.baseCommit, checkoutPath: o.dir }, io: undefined as unknown as SubmitIO };
  // HEAD and the working tree as VS Code's Git would report them after refresh().
  let head = { branch: undefined as string | undefined, commit: undefined as string | undefined };
  let changed: string[] = [];
  const checkout: Checkout = {
    dir: o.dir,
    remote: 'origin',
    refresh: async () => {
      head = { branch: await git(o.dir, ['rev-parse', '--abbrev-ref', 'HEAD']), commit: await git(o.dir, ['rev-parse', 'HEAD']) };
      changed = (await git(o.dir, ['status', '--porcelain'])).split('\n').filter(Boolean).map((l) => l.slice(3));
    },
    head: () => head,
    uncommittedPaths: () => changed,
    commitAll: async (message) => void (await commitAll(o.dir, message, ME)),
    push: async (to, branch) => {
      w.ran.push('push');
      await push(o.dir, branch, to);
    },
  };
  w.io = {
    session: {
      state: 'connected',
      snapshot: () => ({ leases: [lease], worker: { github_login: o.login } }),
      lease: (id) => (id === lease.lease_id ? lease : undefined),
      leaseForTask: (id) => (id === lease.task_id ? lease : undefined),
      task: (id) => (id === task.id ? task : undefined),
      fetchTask: async () => task,
      repoSettings: async () => ({ required_gates: ['tests'] }) as never,
      report: async (_leaseId, report) => {
        w.ran.push('report');
        if (w.failReport) throw new Error('coordinator unreachable');
        w.reports.push(report.pr);
      },
    },
    notes: {
      get: () => w.note,
      update: async (_id, patch) => void Object.assign(w.note, patch),
      forget: async () => void (w.note = {}),
      setBusy: (_id, label) => void (label === undefined ? delete w.note.busy : (w.note.busy = label)),
    },
    settings: { githubApiUrl: o.githubApiUrl, githubLogin: o.login, aiTool: 'claude-code', pushTarget: o.pushTarget ?? 'auto' },
    output: { append: () => undefined, appendLine: () => undefined, show: () => undefined },
    tell: async (notice) => {
      w.told.push(notice);
      for (const [pattern, answer] of w.answers) if (pattern.test(notice.text)) return answer;
      return undefined;
    },
    workspaceTrusted: () => w.trusted,
    manageTrust: async () => void w.ran.push('manage-trust'),
    openInAiTool: async () => void w.ran.push('open-in-ai-tool'),
    commandApprovals: { get: () => w.approvals, save: async (a) => void (w.approvals = a) },
    approveCommands: async (repo, hash, lines) => {
      w.shownCommands.push({ repo, hash, lines });
      return w.approveCommands;
    },
    confirmChecklist: async (_taskId, items) => items.length,
    findCheckout: async (repo) => (repo === o.repo ? checkout : undefined),
    githubToken: async () => o.token,
    withProgress: (_title, work) => work(() => undefined, new AbortController().signal),
    openExternal: async () => undefined,
  };
  return w;
}
