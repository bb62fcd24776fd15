// Deliberately broken variants of OWP, one per guarantee the README lists, and the tests that must
// fail on each. `npm run test:defects` applies each edit to a copy of the working tree (nothing in
// the product knows about them) and runs the tests. An edit is an exact find/replace that must
// match once, so a refactor that moves the code makes the runner say so instead of passing.

const CRASH_LOOP = 'test/reliability/crash-loop.test.ts';
const CRASH_LOOP_TEST = 'coordinator SIGKILLed and its disk power-failed';
// Defects that only some power failures expose get more loops.
const LOOPS = { OWP_CRASH_LOOPS: '8' };
const PROPERTY = 'test/reliability/scheduler.property.test.ts';
const PROPERTY_TEST = 'scheduler invariants hold';
const FUZZ = 'test/reliability/fuzz.test.ts';
const FUZZ_TEST = 'fuzzing every operation';
const ENGINE = 'coordinator/engine';
const KEY_FILE = 'test/integration/idempotency-key-file.test.ts';
const BUDGET = 'protocol/budget.ts';
const BUDGET_FIND = '  return { open: c.open_prs + c.live_leases + c.open_offers, hourly: c.prs_last_hour + c.live_leases + c.open_offers };';
const CLOSED_WHILE_WAITING = "    if (pull.state === 'closed') return pull.merged_at ? this.mergedWhileWaiting(task, number) : this.closedWhileWaiting(task, number);\n";
const BOTH = { file: BUDGET, find: BUDGET_FIND, replace: '  return { open: c.open_prs, hourly: c.prs_last_hour /* defect: leases and offers are not counted */ };' };
const HOURLY = { file: BUDGET, find: BUDGET_FIND, replace: '  return { open: c.open_prs + c.live_leases + c.open_offers, hourly: c.prs_last_hour /* defect: leases and offers are not counted */ };' };

export const DEFECTS = [
  {
    name: 'no-journal-datasync',
    promise: 'durability',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: "sync: (file, handle) => (file === 'journal' ? handle.datasync() : handle.sync()),", replace: "sync: async (file, handle) => { if (file !== 'journal') await handle.sync(); }," }],
    tests: [CRASH_LOOP],
    expect: [CRASH_LOOP_TEST],
  },
  {
    name: 'no-snapshot-fsync',
    promise: 'durability',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: "sync: (file, handle) => (file === 'journal' ? handle.datasync() : handle.sync()),", replace: "sync: async (file, handle) => { if (file !== 'snapshot') await (file === 'journal' ? handle.datasync() : handle.sync()); }," }],
    tests: [CRASH_LOOP],
    env: LOOPS,
    expect: [CRASH_LOOP_TEST],
  },
  {
    name: 'no-dir-fsync',
    promise: 'durability',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '  async syncDir(dir) {\n', replace: '  async syncDir(dir) {\n    if (dir) return; // defect: directory entries are never synced\n' }],
    tests: [CRASH_LOOP],
    expect: [CRASH_LOOP_TEST],
  },
  {
    name: 'ack-before-sync',
    promise: 'durability',
    edits: [{
      file: 'coordinator/runtime.ts',
      find: '          await this.store.append(batch);\n',
      replace: '          for (const w of waiters) w.resolve(); // defect: answered before the write is durable\n          await this.store.append(batch);\n',
    }],
    // The window between such an answer and the sync is microseconds: the hooks test holds it open.
    tests: ['test/reliability/durability-hooks.test.ts'],
    expect: ['an answer waits for the journal sync'],
  },
  {
    name: 'swallow-sync-error',
    promise: 'storage',
    edits: [{
      file: 'coordinator/store/lowdb.ts',
      find: '    } catch (error) {\n      // Part of the batch may be on disk; nothing more is written until load() re-reads the file.\n      this.broken = error as Error;\n      throw error;\n    }',
      replace: '    } catch {\n      // defect: a failed write or sync is ignored\n    }',
    }],
    tests: ['test/reliability/durability-hooks.test.ts', 'test/reliability/storage-faults.test.ts'],
    expect: ['a failed journal sync is never acknowledged', 'a full disk', 'a partial write'],
  },
  {
    name: 'keep-failed-batch',
    promise: 'storage',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '    if (this.journal && this.broken) {\n', replace: '    if (this.journal && this.broken && this.dir === "defect: never") {\n' }],
    tests: ['test/reliability/durability-hooks.test.ts'],
    expect: ['a failed journal sync is never acknowledged'],
  },
  {
    name: 'snapshot-in-place',
    promise: 'storage',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '    const tmp = `${this.path}.tmp-${process.pid}`;\n', replace: '    const tmp = this.path; // defect: the snapshot is written over state.json in place\n' }],
    tests: ['test/reliability/storage-faults.test.ts', 'test/integration/snapshot-while-writing.test.ts'],
    expect: ['a failing snapshot', 'lowdb: a crash in the middle of writing a snapshot'],
  },
  {
    name: 'snapshot-no-preimage',
    promise: 'storage',
    edits: [{ file: 'coordinator/state/snapshot-capture.ts', find: '      if (section >= this.section && !this.before.has(r)) this.before.set(r, JSON.stringify(r));\n', replace: '      if (section < 0) this.before.set(r, JSON.stringify(r)); // defect: a record changed mid-snapshot is written as it is now\n' }],
    tests: ['test/unit/snapshot-capture.test.ts', 'test/integration/snapshot-while-writing.test.ts'],
    expect: ['a snapshot taken while events are folded between its slices', 'memory: a snapshot written while records are changed', 'lowdb: a snapshot written while records are changed'],
  },
  {
    name: 'snapshot-punctuality-dropped',
    promise: 'storage',
    // The workers' on-time records are copied at S and written last, a slice at a time.
    edits: [{ file: 'coordinator/state/snapshot-capture.ts', find: '    if (ids.length > 0) {\n', replace: '    if (ids.length < 0) { // defect: the workers\' on-time records are left out of the snapshot\n' }],
    tests: ['test/unit/snapshot-capture.test.ts'],
    expect: ['a snapshot taken while events are folded between its slices'],
  },
  {
    name: 'snapshot-archived-after-seq',
    promise: 'storage',
    edits: [{ file: 'coordinator/state/snapshot-capture.ts', find: '        if (seq > this.seq) break; // the rest came after S\n', replace: '        // defect: tasks archived after the snapshot\'s seq are written as archived too\n' }],
    tests: ['test/unit/snapshot-capture.test.ts', 'test/integration/snapshot-while-writing.test.ts'],
    expect: ['a snapshot taken while events are folded between its slices', 'memory: a snapshot written while records are changed'],
  },
  {
    name: 'degraded-refuses-reads',
    promise: 'storage',
    edits: [{ file: 'coordinator/runtime.ts', find: '      if (descriptor.mutating && !descriptor.idempotentByNature && this.degraded) {', replace: '      if (this.degraded) { // defect: reads are refused too' }],
    tests: ['test/reliability/storage-faults.test.ts'],
    expect: ['a full disk'],
  },
  {
    name: 'budget-counts-only-prs',
    promise: 'budget',
    edits: [BOTH],
    tests: ['test/unit/review-budget.test.ts', PROPERTY, CRASH_LOOP],
    expect: ['max_open_prs counts open PRs', 'max_open_prs: with one PR open, a live lease', 'max_open_prs: with one PR open, a live offer', 'max_new_prs_per_hour: with one PR this hour, a live lease', 'max_new_prs_per_hour: with one PR this hour, a live offer', PROPERTY_TEST, CRASH_LOOP_TEST],
  },
  {
    name: 'hourly-counts-only-prs',
    promise: 'budget',
    edits: [HOURLY],
    tests: ['test/unit/review-budget.test.ts', PROPERTY, CRASH_LOOP],
    expect: ['max_new_prs_per_hour: with one PR this hour, a live lease', 'max_new_prs_per_hour: with one PR this hour, a live offer', PROPERTY_TEST, CRASH_LOOP_TEST],
  },
  {
    name: 'no-fencing',
    promise: 'fencing',
    edits: [{ file: `${ENGINE}/access.ts`, find: '  if (epoch !== task.epoch || epoch !== lease.epoch) {', replace: '  if (epoch < 0) { // defect: any epoch is taken for the current one' }],
    tests: ['test/unit/fencing.test.ts', 'test/reliability/worker-faults.test.ts', PROPERTY],
    expect: ['an update under a stale epoch is refused', 'duplicated and reordered messages', PROPERTY_TEST],
  },
  {
    name: 'idempotency-create-only',
    promise: 'idempotency',
    edits: [{ file: `${ENGINE}/idempotency.ts`, find: '  if (existing && existing.at + IDEMPOTENCY_TTL_MS > cmd.now) {', replace: "  if (existing && name === 'task.create' && existing.at + IDEMPOTENCY_TTL_MS > cmd.now) { // defect: only task.create replays its key" }],
    tests: [PROPERTY, 'test/reliability/worker-faults.test.ts'],
    expect: [PROPERTY_TEST, 'duplicated and reordered messages'],
  },
  {
    name: 'late-sweep',
    promise: 'deadlines',
    edits: [{ file: `${ENGINE}/expiry.ts`, find: '      if (lease.expires_at > now) continue;', replace: '      if (lease.expires_at + 1000 > now) continue; // defect: a lease outlives its deadline by up to a second' }],
    tests: ['test/unit/lease-expiry.test.ts', PROPERTY],
    expect: ['a lease without heartbeats expires', 'the runtime sweeps every 250 ms', PROPERTY_TEST],
  },
  {
    name: 'sweep-every-second',
    promise: 'deadlines',
    edits: [{ file: 'coordinator/runtime.ts', find: 'const every = this.options.sweepIntervalMs ?? 250;', replace: 'const every = this.options.sweepIntervalMs ?? 1000; // defect: the README says 250 ms' }],
    tests: ['test/unit/lease-expiry.test.ts'],
    expect: ['the runtime sweeps every 250 ms'],
  },
  {
    name: 'recovery-forgets-tail',
    promise: 'durability',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: 'return { snapshot: snapshot ? (plain as Snapshot) : null, events: tail, warnings,', replace: 'return { snapshot: snapshot ? (plain as Snapshot) : null, events: tail.slice(0, -1), warnings, // defect: recovery drops the last event\n' }],
    tests: [CRASH_LOOP],
    expect: [CRASH_LOOP_TEST],
  },
  {
    name: 'no-offers',
    promise: 'durability',
    edits: [{ file: `${ENGINE}/engine.ts`, find: '  schedule(): Outcome<number> {\n', replace: '  schedule(): Outcome<number> {\n    if (this.clock.now() > 0) return { result: 0, events: [], notifications: [] }; // defect: nothing is ever offered\n' }],
    tests: [CRASH_LOOP],
    expect: [CRASH_LOOP_TEST],
  },
  {
    name: 'expiry-trusts-connection',
    promise: 'network',
    edits: [{ file: `${ENGINE}/expiry.ts`, find: '      if (lease.expires_at > now) continue;', replace: '      if (lease.expires_at > now || state.workers.get(lease.worker_id)?.online) continue; // defect: a connected worker keeps its lease' }],
    tests: ['test/reliability/network-cut.test.ts'],
    expect: ['a silent blackhole longer than the heartbeat timeout'],
  },
  {
    name: 'client-waits-for-ping',
    promise: 'network',
    edits: [{ file: 'client/worker-client.ts', find: '        this.reconnectSilentLink();\n', replace: '        // defect: an unanswered request waits for socket.io\'s ping timeout\n' }],
    tests: ['test/reliability/network-cut.test.ts'],
    expect: ['a half-open link'],
  },
  {
    name: 'proto-params',
    promise: 'input',
    // Both guards go: the binding assigns the body (a "__proto__" key becomes the prototype) and the
    // structural check no longer refuses a payload whose prototype was replaced.
    edits: [
      { file: 'coordinator/http.ts', find: '        for (const [k, v] of Object.entries(body)) setParam(params, k, v);', replace: '        Object.assign(params, body); // defect: a __proto__ key becomes the prototype' },
      { file: 'protocol/validate.ts', find: '  if (proto !== Object.prototype && proto !== null) {', replace: '  if (proto !== Object.prototype && proto !== null && proto === undefined) { // defect: never' },
    ],
    tests: [FUZZ, 'test/integration/hostile-input.test.ts'],
    // The fuzzer picks an operation, then a mutation: with every operation added, 800 cases missed the
    // few (HTTP body, __proto__ carrying the required fields) that show this about one run in three.
    env: { OWP_FUZZ_CASES: '4000' },
    expect: [FUZZ_TEST, 'a __proto__ key carrying every required field'],
  },
  {
    name: 'path-escape-crash',
    promise: 'input',
    edits: [{ file: 'coordinator/http.ts', find: '    return decodeURIComponent(raw);\n  } catch {', replace: '    return decodeURIComponent(raw);\n  } catch (error) {\n    if (raw) throw error; // defect: a bad escape escapes as INTERNAL' }],
    tests: [FUZZ, 'test/integration/hostile-input.test.ts'],
    expect: [FUZZ_TEST, 'a malformed percent-escape'],
  },
  {
    name: 'restart-trusts-wall-clock',
    promise: 'clock',
    edits: [{ file: 'coordinator/runtime.ts', find: '    if (last) options.clock.notBefore?.(last.at);', replace: '    // defect: a wall clock set back while down moves time back' }],
    tests: ['test/unit/clock.test.ts'],
    expect: ['a wall clock set back or forward'],
  },
  {
    name: 'tokens-in-clear',
    promise: 'tokens',
    edits: [{ file: 'coordinator/auth.ts', find: "  return hash('sha256', token, 'hex');", replace: '  return token; // defect: tokens are stored as they are' }],
    tests: ['test/integration/token-storage.test.ts'],
    expect: ['tokens are stored only as SHA-256 hashes'],
  },
  {
    name: 'cap-forgets-offers',
    promise: 'contributor-cap',
    edits: [{ file: `${ENGINE}/contributors.ts`, find: "      if (task.state === 'offered') counts.open_offers += 1;", replace: "      if (task.state === 'offered') continue; // defect: offers do not count against the cap" }],
    tests: [PROPERTY, 'test/unit/contributor-cap.test.ts'],
    expect: [PROPERTY_TEST, 'an open offer counts against the cap'],
  },
  {
    name: 'cap-per-worker',
    promise: 'contributor-cap',
    edits: [{ file: `${ENGINE}/contributors.ts`, find: '  for (const w of state.workersByLogin.get(key) ?? []) {', replace: '  for (const w of (state.workersByLogin.get(key) ?? []).slice(0, 1)) { // defect: only the first worker of a login counts' }],
    tests: [PROPERTY, 'test/unit/contributor-cap.test.ts'],
    expect: [PROPERTY_TEST, 'a contributor with two workers is capped once, over both'],
  },
  {
    name: 'adaptive-below-floor',
    promise: 'adaptive-budget',
    edits: [{ file: 'protocol/budget.ts', find: '  const to = clampAdaptive(shrunk, rule);', replace: '  const to = shrunk; // defect: the decrease forgets the floor' }],
    tests: [PROPERTY, 'test/unit/adaptive-budget.test.ts'],
    expect: [PROPERTY_TEST, 'adaptBudget: +increase on a PR merged in time, ×decrease_factor rounded down otherwise, always within floor and ceiling'],
  },
  {
    name: 'adaptive-reset-on-apply',
    promise: 'adaptive-budget',
    edits: [{ file: 'coordinator/engine/maintainer-operations.ts', find: '      settings.max_open_prs = clampAdaptive(carried ? current.max_open_prs : settings.max_open_prs, rule);', replace: '      settings.max_open_prs = clampAdaptive(settings.max_open_prs, rule); // defect: applying the policy again restarts the budget' }],
    tests: ['test/unit/adaptive-budget.test.ts'],
    expect: ['applying the policy again keeps the value the adaptive budget reached, within the new bounds; a max_open_prs set by hand restarts it'],
  },
  {
    name: 'cap-ci-drafts-free',
    promise: 'contributor-cap',
    edits: [{ file: `${ENGINE}/contributors.ts`, find: "    if (x?.draft === true && pr?.evidence !== 'ci') counts.draft_prs += 1;", replace: '    if (x?.draft === true) counts.draft_prs += 1; // defect: a PR that waited for CI as a draft never counts' }],
    tests: ['test/unit/contributor-cap.test.ts'],
    expect: ['with count_drafts: false, a PR that waited for CI as a draft and counted on its checks still counts'],
  },
  {
    name: 'lane-ignores-unowned',
    promise: 'pr-lane',
    edits: [{ file: 'coordinator/github/pr-verify.ts', find: '  const strays = stray.length > 0 || unmatched.length > 0;', replace: '  const strays = stray.length > 0; // defect: paths no area owns do not count as straying' }],
    tests: ['test/github/pr-lane.test.ts'],
    expect: ['refuse: a PR touching another area and an unowned path is refused with POLICY_DENIED naming the rule; one in its area counts'],
  },
  {
    name: 'unsigned-commits-pass',
    promise: 'signed-commits',
    edits: [{ file: 'coordinator/github/pr-verify.ts', find: '&& (unsigned.length > 0 || commits.length === 0) &&', replace: '&& commits.length === 0 && /* defect: unsigned commits pass */' }],
    tests: ['test/github/signed-commits.test.ts'],
    expect: ['a tier-2 PR with an unsigned commit is refused naming it; signed, it counts'],
  },
  {
    name: 'decay-every-poll',
    promise: 'trust-decay',
    edits: [{ file: 'coordinator/github/reputation.ts', find: '        since[w.id] = from + after.halvings * halfLife;', replace: '        // defect: idle time keeps counting from the last activity, so every poll halves again' }],
    tests: ['test/github/trust-decay.test.ts'],
    expect: ['an idle worker loses half its trust per half-life, journaled; a lease counts as activity'],
  },
  {
    name: 'vouch-comment-any-role',
    promise: 'vouch-comments',
    edits: [{ file: 'coordinator/github/vouch-comments.ts', find: '  if (!VOUCH_ROLES.includes(role)) {', replace: '  if (role === \'none\') { // defect: any reader may vouch' }],
    tests: ['test/github/vouch-comments.test.ts'],
    expect: ['a collaborator vouches and denounces by comment; anyone else is refused in a reply and nothing changes'],
  },
  {
    name: 'vouch-comment-twice',
    promise: 'vouch-comments',
    edits: [{ file: 'coordinator/github/vouch-comments.ts', find: '  if (!taken) return;', replace: '  if (!taken) return carryOut(ctx, repo, comment, command, async () => undefined); // defect: a comment read again (webhook, then poll) is acted on again' }],
    tests: ['test/github/vouch-comments-polling.test.ts'],
    expect: ['a comment delivered by webhook is not acted on again by the poll that reads it later'],
  },
  {
    name: 'poll-acts-on-edits',
    promise: 'vouch-comments',
    edits: [{ file: 'coordinator/github/vouch-comments.ts', find: ' || !(created >= from) || ', replace: ' || /* defect: an old comment edited later counts as new */ ' }],
    tests: ['test/github/vouch-comments-polling.test.ts'],
    expect: ['polling: a collaborator\'s command is carried out and answered once; a reader is refused; an old comment edited later is history'],
  },
  {
    name: 'standings-forget-merges',
    promise: 'contributor-cap',
    edits: [{ file: `${ENGINE}/contributors.ts`, find: '        row.cap = contributorCap(rule, counts.merged_prs, trust);', replace: '        row.cap = contributorCap(rule, 0, trust); // defect: the view shows the cap before any merge' }],
    tests: [PROPERTY],
    expect: [PROPERTY_TEST],
  },
  {
    name: 'retry-ignores-record',
    promise: 'retry-routing',
    edits: [{ file: `${ENGINE}/scheduler.ts`, find: '    const score = task.retry_after_expiry ? (w: WorkerRuntime) => onTimeScore(this.state.punctuality.get(w.record.id)) : () => 0;', replace: '    const score = (_w: WorkerRuntime) => 0; // defect: a retry goes to whoever was offered least recently' }],
    tests: ['test/unit/retry-routing.test.ts'],
    expect: ['a task whose lease expired is offered first to the most punctual idle worker, not the least recently offered'],
  },
  {
    name: 'dry-run-every-offer',
    promise: 'dry-run',
    edits: [{ file: `${ENGINE}/task-moves.ts`, find: '    if (task.dry_run_seen?.includes(dryRunKey(w.record.id, hit.rule))) continue;\n', replace: '    // defect: every offer records its dry-run hits again\n' }],
    tests: ['test/unit/policy-dry-run.test.ts'],
    expect: ['a task offered again and again to the same worker records its dry-run hit once'],
  },
  {
    name: 'denounced-offered',
    promise: 'denounce',
    edits: [{ file: 'coordinator/policy.ts', find: "  if (standing?.status === 'denounced') verdict(", replace: "  if (standing?.status === ('defect: denounced logins are offered work' as string)) verdict(" }],
    tests: [PROPERTY, 'test/integration/vouch.test.ts'],
    expect: [PROPERTY_TEST, 'a denounced login is refused and never offered work in that repo'],
  },
  {
    name: 'denounce-keeps-offers',
    promise: 'denounce',
    edits: [{ file: `${ENGINE}/maintainer-operations.ts`, find: '  for (const w of cmd.state.workersByLogin.get(loginKey(login)) ?? []) withdrawIfIneligible(cmd, w);', replace: '  // defect: a denounced login keeps its open offers' }],
    tests: [PROPERTY],
    expect: [PROPERTY_TEST],
  },
  {
    name: 'no-area-locks',
    promise: 'one-lease',
    edits: [{ file: `${ENGINE}/eligibility.ts`, find: '      if (holder !== undefined && holder !== task.id) {', replace: '      if (holder === "defect: area locks are ignored") {' }],
    tests: ['test/unit/area-locks.test.ts', PROPERTY],
    expect: ['only one active task per area per repo', PROPERTY_TEST],
  },
  {
    name: 'no-max-attempts',
    promise: 'attempts',
    edits: [{ file: `${ENGINE}/task-moves.ts`, find: '  const attempts = task.attempts + 1;\n  const blocked = attempts >= settings.max_attempts;\n  const refs', replace: '  const attempts = task.attempts + 1;\n  const blocked = attempts < 0; // defect: an expired or released lease never blocks its task\n  const refs' }],
    tests: ['test/unit/lease-expiry.test.ts', PROPERTY],
    expect: ['attempts used up send the task to blocked', PROPERTY_TEST],
  },
  {
    name: 'corrupt-snapshot-starts-empty',
    promise: 'state-files',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '      warnings.push(`${snapshotProblem}; rebuilt the state by replaying all ${events.length} journal events`);', replace: '      events.length = 0; // defect: an unreadable state.json starts the coordinator empty\n      warnings.push(`${snapshotProblem}; rebuilt the state by replaying all ${events.length} journal events`);' }],
    tests: ['test/integration/store-contract.test.ts'],
    expect: ['a truncated state.json is rebuilt', 'a zeroed state.json is rebuilt', 'a invalid JSON state.json is rebuilt'],
  },
  {
    name: 'scoped-journal-leak',
    promise: 'access',
    edits: [{ file: 'coordinator/journal-reads.ts', find: '(principal.admin || (e.repo !== undefined ? scopeCovers(principal.repos, e.repo)', replace: '(principal.admin || principal.repos.length > 0 || (e.repo !== undefined ? scopeCovers(principal.repos, e.repo)' }],
    tests: ['test/integration/access.test.ts'],
    expect: ['access: no token, a wrong token'],
  },
  {
    name: 'lock-trusts-pid',
    promise: 'state-files',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '  if (lock.boot !== undefined && now.boot !== undefined && lock.boot !== now.boot) return undefined;\n  if (lock.start !== undefined && now.start !== undefined && lock.start !== now.start) return undefined;\n', replace: '  // defect: a live pid is taken for the lock holder, whatever process it now is\n' }],
    tests: ['test/integration/store-contract.test.ts'],
    expect: ['a stale lock never stops the coordinator'],
  },
  {
    name: 'bulk-partial',
    promise: 'bulk',
    // A batch with refused items creates the others instead of nothing.
    edits: [{ file: 'coordinator/engine/maintainer-operations.ts', find: "    if (refused.length > 0) throw bulkRefusal('task.create_many', params.tasks.length, refused);\n    return { tasks: params.tasks.map((fields) => createTask(cmd, fields)) };", replace: "    return { tasks: params.tasks.filter((_, i) => !refused.some((r) => r.index === i)).map((fields) => createTask(cmd, fields)) }; // defect: the refused items are skipped" }],
    tests: ['test/integration/bulk-create.test.ts'],
    expect: ['task.create_many refuses the whole batch when any item is refused'],
  },
  {
    name: 'prs-of-others',
    promise: 'submitted',
    // worker.prs lists every PR in the pool instead of the caller's own (SPEC WORKER-004).
    edits: [{ file: 'coordinator/engine/reads.ts', find: '    if (task.pr_worker_id !== w.record.id || !task.pr || ', replace: '    if (!task.pr || /* defect: anyone\'s PR */ ' }],
    tests: ['test/integration/submitted-prs.test.ts'],
    expect: ['a PR stays in My work after the lease ends'],
  },
  {
    name: 'trust-no-relist',
    promise: 'submitted',
    // A trust change no longer tells clients to re-read: the volunteer never hears of it.
    edits: [{ file: 'coordinator/socket.ts', find: " || e.type === 'worker.trust_changed')", replace: ') /* defect: trust changes are silent */' }],
    tests: ['test/integration/submitted-prs.test.ts'],
    expect: ['a PR stays in My work after the lease ends'],
  },
  {
    name: 'worker-deaf-to-merges',
    promise: 'submitted',
    // owp worker no longer subscribes to tasks.changed: it never re-reads its PRs, so a merge goes unsaid.
    edits: [{ file: 'cli/commands/worker.ts', find: 'maxOpenOffers: window, subscribeTasks: true, ...acceptOffers });', replace: 'maxOpenOffers: window, ...acceptOffers }); // defect: no tasks.changed hints' }],
    tests: ['test/integration/readme-volunteer-path.test.ts'],
    expect: ['README: from npm start to a task accepted in a clone'],
  },
  {
    name: 'restart-reads-segments',
    promise: 'restart',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '    const after0 = snapshotProblem ? 0 : (snapshot?.seq ?? 0);', replace: '    const after0 = 0; // defect: every closed segment is parsed at each start' }],
    tests: ['test/integration/lowdb-recovery.test.ts'],
    expect: ['closed journal segments are kept for audit and never read by a restart'],
  },
  {
    name: 'recovery-scans-history',
    promise: 'restart',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '    this.index = start > 0 && snapshot ? [{ seq: snapshot.seq, offset: end.lastLine }] : [];', replace: '    this.index = []; // defect: the snapshot\'s last event is found by scanning the journal from its start' }],
    tests: ['test/integration/lowdb-recovery.test.ts'],
    expect: ['a restart with nothing after the snapshot reads the snapshot\'s last event'],
  },
  {
    name: 'snapshot-answer-not-read-back',
    promise: 'restart',
    // A snapshot keeps no idempotency answers; the runtime must read a replayed key's answer back from the journal.
    edits: [{ file: 'coordinator/runtime.ts', find: '      if (rec.answer !== undefined || rec.seq === undefined || seen.unreadable) return undefined;\n', replace: '      if (rec) return undefined; // defect: a replayed key restored from a snapshot has no answer\n' }],
    tests: ['test/integration/restart-history.test.ts'],
    expect: ['a snapshot keeps no idempotency answers', 'a key folded from the journal tail is kept without its answer'],
  },
  {
    name: 'key-file-not-looked-up',
    promise: 'restart',
    // The keys a snapshot covers are in its key file only: a replay must read its record back from there.
    edits: [{ file: 'coordinator/runtime.ts', find: '    if (!covered || covered === seen.searched) return undefined;\n', replace: '    if (covered || !covered) return undefined; // defect: keys a snapshot covers are never read back\n' }],
    tests: [KEY_FILE, 'test/integration/restart-history.test.ts'],
    expect: ['after a clean stop the keys are in the key file', 'after a crash with a snapshot', 'a new key costs no disk read; a covered key', 'a snapshot keeps no idempotency answers'],
  },
  {
    name: 'key-file-new-key-reads',
    promise: 'restart',
    // The hash index answers "not there" in memory; without it every new key goes to the disk.
    edits: [{ file: 'coordinator/store/key-file.ts', find: '  mayHoldHash(hi: number, lo: number, notBefore: number): boolean {\n', replace: "  mayHoldHash(hi: number, lo: number, notBefore: number): boolean {\n    if (hi >= 0) return true; // defect: every key not in memory is looked up on disk\n" }],
    tests: [KEY_FILE],
    expect: ['a new key costs no disk read'],
  },
  {
    name: 'key-file-ignores-age',
    promise: 'restart',
    edits: [{ file: 'coordinator/runtime.ts', find: '    const notBefore = this.clock.now() - IDEMPOTENCY_TTL_MS;\n', replace: '    const notBefore = Number.NEGATIVE_INFINITY; // defect: a key\'s age is not looked at before its record is read\n' }],
    tests: [KEY_FILE],
    expect: ['a key first used more than 24 h ago'],
  },
  {
    name: 'key-file-never-expires',
    promise: 'restart',
    edits: [
      { file: 'coordinator/store/key-file.ts', find: '          while (i < run.size && (run.at[i] as number) <= cutoff) i += 1;\n', replace: '          // defect: records older than 24 h stay in every next key file\n' },
      { file: 'coordinator/store/key-file.ts', find: '            if ((run.at[i] as number) > cutoff) same.push([run, i]);\n', replace: '            same.push([run, i]); // defect: (the same)\n' },
      { file: 'coordinator/store/key-segments.ts', find: '    for (const f of this.files) (f.newestAt() <= cutoff ? dropped : live).push(f);\n', replace: '    for (const f of this.files) live.push(f); // defect: a key file all expired stays\n' },
      { file: 'coordinator/store/key-segments.ts', find: '    const halfExpired = live.findIndex((f) => 2 * f.expiredBy(cutoff) >= f.size);\n', replace: '    const halfExpired = -1; // defect: expired records never make a merge\n' },
    ],
    tests: [KEY_FILE],
    expect: ['a key first used more than 24 h ago', 'a key file whose keys all expired is dropped'],
  },
  {
    name: 'key-file-removed-before-commit',
    promise: 'restart',
    // A crash between the two must leave the previous pair whole.
    edits: [{ file: 'coordinator/store/lowdb.ts', find: "          if (!written) throw new Error('the snapshot names a key file that was not written');\n", replace: "          if (!written) throw new Error('the snapshot names a key file that was not written');\n          for (const old of this.keys.files) if (old.path !== null) await unlink(old.path); // defect: the old key files go before the new snapshot is in place\n" }],
    tests: [KEY_FILE],
    expect: ['a crash between writing the key file and committing the snapshot'],
  },
  {
    name: 'key-file-orphans-kept',
    promise: 'restart',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '      if (KEY_FILE_NAME.test(name) && !keep.has(name)) await unlink(join(this.dir, name)).catch(() => undefined);\n', replace: '      void name; // defect: key files no snapshot names pile up\n' }],
    tests: [KEY_FILE],
    expect: ['a crash between writing the key file and committing the snapshot'],
  },
  {
    name: 'key-file-missing-trusted',
    promise: 'restart',
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '        snapshot = null;\n        for (const f of opened) await f.close();\n        opened.length = 0;\n        break;\n', replace: '        snapshotProblem = null; // defect: a snapshot whose key file is gone starts without its keys\n        continue;\n' }],
    tests: [KEY_FILE],
    expect: ['a snapshot whose key file is missing'],
  },
  {
    name: 'key-files-newest-only',
    promise: 'restart',
    // A snapshot's keys are spread over several key files: a look-up must search every one.
    edits: [{ file: 'coordinator/store/key-segments.ts', find: '    for (let i = this.files.length - 1; i >= 0; i -= 1) if ((this.files[i] as KeyFile).mayHoldHash(hi, lo, notBefore)) return true;\n', replace: '    const newest = this.files.at(-1); // defect: only the newest key file is searched\n    if (newest?.mayHoldHash(hi, lo, notBefore)) return true;\n' }],
    tests: [KEY_FILE],
    expect: ['each snapshot writes only the keys it covers'],
  },
  {
    name: 'key-file-format-1-ignored',
    promise: 'restart',
    // A coordinator upgraded in place starts from a state.json that names one key_file.
    edits: [{ file: 'coordinator/store/lowdb.ts', find: '    const named = snapshot?.key_files ?? (snapshot?.key_file !== undefined ? [snapshot.key_file] : []);\n', replace: '    const named = snapshot?.key_files ?? []; // defect: the single key file of an older data dir is not read\n' }],
    tests: [KEY_FILE],
    expect: ['a data directory from before key files came in segments'],
  },
  {
    name: 'key-file-merge-duplicates',
    promise: 'restart',
    edits: [{ file: 'coordinator/store/key-file.ts', find: '          if (seen.has(key)) continue;\n', replace: '          // defect: a key both the previous file and memory hold is written twice\n' }],
    tests: ['test/unit/key-file.test.ts'],
    expect: ['merged key files hold each key'],
  },
  {
    name: 'covered-keys-kept-in-memory',
    promise: 'restart',
    edits: [{ file: 'coordinator/state/idempotency-keys.ts', find: '      if (rec.seq === undefined || rec.seq <= seq) this.drop(k);\n', replace: '      void k; // defect: memory keeps every key a snapshot covers\n' }],
    tests: [KEY_FILE],
    expect: ['after a crash with a snapshot'],
  },
  {
    name: 'snapshot-refused-while-busy',
    promise: 'restart',
    // The snapshot is taken as soon as the queue drained, while commands of the same turn are not yet durable.
    edits: [{ file: 'coordinator/runtime.ts', find: '        for (let tries = 0; tries < 100; tries += 1) {\n', replace: '        for (let tries = 0; tries < 1; tries += 1) { // defect: no wait for what ran since the queue drained\n' }],
    tests: ['test/integration/restart-history.test.ts'],
    expect: ['a snapshot written while writes keep coming'],
  },
  {
    name: 'start-loads-cluster',
    promise: 'restart',
    // The import app.ts had before: the cluster node (pg, the relay's client) loads at every start.
    edits: [{ file: 'coordinator/app.ts', find: "import type { ClusterNode, ClusterSettings, ClusterStatus } from './cluster/node.ts';", replace: "import { ClusterNode as StaticClusterNode, type ClusterNode, type ClusterSettings, type ClusterStatus } from './cluster/node.ts';\nexport const STATIC_CLUSTER_NODE = StaticClusterNode; // defect: imported at every start" }],
    tests: ['test/integration/coordinator-start-modules.test.ts'],
    expect: ['on lowdb it loads neither the cluster, the GitHub sync nor the demo'],
  },
  {
    name: 'lease-lapses-in-takeover',
    promise: 'cluster',
    // A takeover slower than the lease: without renewals meanwhile it leads on a lapsed lease and steps down at once.
    edits: [{ file: 'coordinator/cluster/lease-keeper.ts', find: "      } else if (role === 'promoting') {\n", replace: "      } else if (role === 'promoting' && this.stopped) { // defect: no renewal while taking over\n" }],
    tests: ['test/integration/cluster-start.test.ts'],
    expect: ['cluster: three nodes start on a slow database'],
  },
  {
    name: 'no-term-fence',
    promise: 'cluster',
    // A deposed leader's append, delivered late after a standby took over, is no longer refused by the database.
    edits: [{ file: 'coordinator/store/postgres.ts', find: '            AND term = $1 AND holder = $2\n            AND last_seq = $3\n', replace: "            AND $1::bigint > 0 AND $2::text <> '' -- defect: the term and holder are not checked\n            AND last_seq = $3\n" }],
    tests: ['test/integration/cluster-fencing.test.ts'],
    expect: ['cluster: a deposed leader\'s append delivered late'],
  },
  {
    name: 'github-deliveries-in-memory',
    promise: 'cluster',
    // The webhook delivery log stays in the node's memory instead of PostgreSQL: a takeover forgets it.
    edits: [{ file: 'coordinator/github/sync-state.ts', find: '    if (this.store.deliveries) return this.store.deliveries.first(id, now);\n', replace: '' }],
    tests: ['test/github/cluster-sync.test.ts'],
    expect: ['cluster: the GitHub sync runs on the leader'],
  },
  {
    name: 'no-durable-push',
    promise: 'cluster',
    // The leader no longer pushes committed events to its followers: their copies move only by reading the database.
    edits: [{ file: 'coordinator/cluster/relay.ts', find: '    if (events.length > 0 && this.nsp.sockets.size > 0) this.nsp.local.emit(\'durable\', events);\n', replace: '    void events; // defect: nothing is pushed\n' }],
    tests: ['test/integration/cluster-reads.test.ts'],
    expect: ['cluster: a follower answers reads from its copy'],
  },
  {
    name: 'follower-read-no-index',
    promise: 'cluster',
    // A follower answers a read from its copy without asking the leader how far the journal is durable.
    edits: [{ file: 'coordinator/cluster/follower-reads.ts', find: '    const index = await this.readIndex();\n', replace: '    const index = follower.applied(); // defect: no read index\n' }],
    tests: ['test/integration/cluster-reads.test.ts'],
    expect: ['cluster: a follower answers reads from its copy'],
  },
  {
    name: 'relay-stale-principal',
    promise: 'cluster',
    // The leader runs a relayed command as the principal the follower resolved on its (maybe stale) copy.
    edits: [{ file: 'coordinator/cluster/relay.ts', find: '        const now = currentPrincipal(runtime.engine.state, principal);\n', replace: '        const now = currentPrincipal(runtime.engine.state, principal) ?? principal; // defect: the follower\'s word is taken\n' }],
    tests: ['test/integration/cluster-reads.test.ts'],
    expect: ['cluster: a follower answers reads from its copy'],
  },
  {
    name: 'index-drops-cooled-kind',
    promise: 'offer-order',
    // A task of a kind skipped only because its workers are cooling down ends the kind for the pass: later tasks of that kind wait.
    edits: [{ file: 'coordinator/engine/scheduler.ts', find: "      if (skippedPassed) return 'next';", replace: "      if (skippedPassed) return 'kind_done'; // defect: one cooled-down task hides its whole kind" }],
    tests: ['test/reliability/scheduler-index.property.test.ts'],
    expect: ['the indexed scheduler makes the same offers as the old scan'],
  },
  {
    name: 'index-kinds-unordered',
    promise: 'offer-order',
    edits: [{ file: 'coordinator/engine/scheduler.ts', find: '        if (entry) kinds.rest.push({ repo, queue, entry });', replace: '        if (entry) kinds.sorted.push({ repo, queue, entry }); // defect: an idle worker gets the first kind found, not the best task' }],
    tests: ['test/reliability/scheduler-index.property.test.ts'],
    expect: ['the indexed scheduler makes the same offers as the old scan'],
  },
  {
    name: 'offer-window-ignored',
    promise: 'capacity',
    // Every worker with free capacity gets another offer, whatever offer window it declared (OFFER-001, OFFER-009).
    edits: [{ file: 'coordinator/engine/scheduler.ts', find: '  const room = w.online && !w.record.revoked && w.openOffers.size < w.offerWindow && w.free > 0;', replace: '  const room = w.online && !w.record.revoked && w.free > 0; // defect: the offer window is not counted' }],
    tests: [PROPERTY],
    expect: [PROPERTY_TEST],
  },
  {
    name: 'accept-waits-for-next-change',
    promise: 'capacity',
    // An accept no longer brings the worker's next offer: it waits until something else changes (OFFER-010).
    edits: [{ file: 'coordinator/engine/worker-operations.ts', find: '  if (w.free > 0) cmd.scheduler.markWorker(workerId);\n  return granted;', replace: '  return granted; // defect: the worker is not looked at again after its accept' }],
    tests: ['test/integration/worker-client-pipelining.test.ts'],
    expect: ['a client with maxOpenOffers holds that many offers'],
  },
  {
    name: 'repo-git-config-runs',
    promise: 'tokens',
    // OWP's git no longer turns off the repository's fsmonitor and hooks.
    edits: [{ file: 'client/repo-git-config.ts', find: "export const GIT_SAFETY_OVERRIDES: readonly string[] = ['-c', 'core.fsmonitor=false', '-c', `core.hooksPath=${NO_HOOKS}`];", replace: "export const GIT_SAFETY_OVERRIDES: readonly string[] = NO_HOOKS ? [] : []; // defect: the repository's fsmonitor and hooks run" }],
    tests: ['test/unit/git-repo-config.test.ts', 'test/unit/child-env.test.ts'],
    expect: ['core.fsmonitor set by the repository', 'a core.hooksPath the repository sets', 'git hooks the worktree holds do not run'],
  },
  {
    name: 'repo-git-config-trusted',
    promise: 'tokens',
    // Command-running keys from the repository's own config are no longer refused.
    edits: [{ file: 'client/repo-git-config.ts', find: "    if (scope !== 'local' && scope !== 'worktree') continue;", replace: "    if (scope !== 'command') continue; // defect: the repository's own config is trusted" }],
    tests: ['test/unit/git-repo-config.test.ts'],
    expect: ['a filter driver the repository defines', 'core.sshCommand and credential helpers', 'the listing parser'],
  },
  {
    name: 'repo-git-config-stale',
    promise: 'tokens',
    // The check's first result for a repository is reused even after its config changed.
    edits: [{ file: 'client/repo-git-config.ts', find: '    if (known?.settled && [...known.stamps].every(([path, stamp]) => stampOf(path) === stamp)) return known.unsafe;', replace: '    if (known?.settled) return known.unsafe; // defect: a config change after the first check is not seen' }],
    tests: ['test/unit/git-repo-config.test.ts'],
    expect: ['the check runs once per repository and again only when its config changed', 'git() itself refuses a setting the repository gained'],
  },
  {
    name: 'rate-limit-words-only',
    promise: 'github',
    // Only rate limits the throttling plugin recognizes by its words or headers are waited out.
    edits: [{ file: 'coordinator/github/octokit.ts', find: '          const waitMs = unrecognizedRateLimitWaitMs(error as HttpError);', replace: '          const waitMs = undefined as number | undefined; // defect: a 429 without "secondary rate" fails the call' }],
    tests: ['test/github/rate-limit-shapes.test.ts'],
    expect: ['rate limits without the words "secondary rate"'],
  },
  {
    name: 'closed-pr-keeps-waiting',
    promise: 'github',
    edits: [{ file: 'coordinator/github/checks-sync.ts', find: CLOSED_WHILE_WAITING, replace: "    if (pull.state === 'closed' && pull.merged_at) return this.mergedWhileWaiting(task, number); // defect: a PR closed unmerged while it waits for checks keeps the lease until the checks deadline\n" }],
    tests: ['test/github/ci-checks.test.ts'],
    expect: ['a PR closed while it waits for checks'],
  },
  {
    name: 'merged-pr-keeps-waiting',
    promise: 'github',
    edits: [{ file: 'coordinator/github/checks-sync.ts', find: CLOSED_WHILE_WAITING, replace: "    if (pull.state === 'closed' && !pull.merged_at) return this.closedWhileWaiting(task, number); // defect: a PR merged while it waits for checks stays waiting\n" }],
    tests: ['test/github/ci-checks.test.ts'],
    expect: ['a PR merged while it waits for checks'],
  },
  {
    name: 'app-uninstall-ignored',
    promise: 'github',
    edits: [{ file: 'coordinator/github/integration.ts', find: "  private async disconnect(installationId: number, reason: Disconnection['reason']): Promise<void> {\n", replace: "  private async disconnect(installationId: number, reason: Disconnection['reason']): Promise<void> {\n    if (reason) return; // defect: an uninstalled or suspended installation is used on\n" }],
    tests: ['test/github/github-app.test.ts'],
    expect: ['the App uninstalled', 'a suspended installation is let go', 'an uninstall missed while the coordinator was down'],
  },
  {
    name: 'direct-lease-window-ignored',
    promise: 'capacity',
    // A worker granted leases directly gets one more whenever it has capacity: the tasks it has not started are not counted in its window (OFFER-011).
    edits: [{ file: 'coordinator/engine/scheduler.ts', find: '  return room && (!w.acceptsOffers || unreportedGrants(state, w) < w.offerWindow);', replace: '  return room; // defect: direct grants ignore the offer window' }],
    tests: ['test/unit/direct-leases.test.ts', PROPERTY],
    expect: ['the offer window paces direct grants', PROPERTY_TEST],
  },
  {
    name: 'direct-lease-pushed-before-durable',
    promise: 'durability',
    // The scheduler's notifications (a direct grant's lease.granted among them) go out when the events are queued, not once they are synced (OFFER-012).
    edits: [{ file: 'coordinator/runtime.ts', find: '      this.waiters.push({ resolve, reject, notifications: outcome.notifications });', replace: '      this.deliver(outcome.notifications); // defect: pushed before the write is durable\n      this.waiters.push({ resolve, reject, notifications: [] });' }],
    tests: ['test/integration/direct-leases.test.ts'],
    expect: ['a direct grant is pushed only once its journal write is synced'],
  },
  {
    name: 'direct-lease-not-pushed',
    promise: 'offers',
    // The grant is journaled but the worker is never told: it learns of the lease only at its next hello (OFFER-012).
    edits: [{ file: 'coordinator/engine/task-moves.ts', find: "  cmd.notify({ workerId: w.record.id, name: 'lease.granted', payload: granted });", replace: '  void granted; // defect: the grant is not pushed' }],
    tests: ['test/unit/direct-leases.test.ts'],
    expect: ['a worker with accept_offers "auto" is granted the lease'],
  },
  {
    name: 'direct-lease-start-keeps-window',
    promise: 'offers',
    // Reporting in_progress does not make the scheduler look at the worker again: its freed window place waits for another change.
    edits: [{ file: 'coordinator/engine/worker-operations.ts', find: '        if (w.acceptsOffers) cmd.scheduler.markWorker(w.record.id);\n', replace: '' }],
    tests: ['test/unit/direct-leases.test.ts'],
    expect: ['the offer window paces direct grants'],
  },
  {
    name: 'direct-lease-lost-on-reconnect',
    promise: 'offers',
    // The client tracks a lease its hello lists but never announces it: a grant whose push was lost with the connection is heartbeated and never worked on.
    edits: [{ file: 'client/worker-client.ts', find: "      if (this.saidHello && !this.leases.has(lease.lease_id) && hello.worker?.accept_offers === 'auto') granted.push(lease);\n", replace: '' }],
    tests: ['test/integration/direct-leases.test.ts'],
    expect: ['a grant made while the client was disconnected is announced after its reconnect'],
  },
  {
    name: 'hello-drops-pushed-lease',
    promise: 'offers',
    // The client drops every lease a hello's answer leaves out, also one pushed while the hello was in flight (newer than the answer's list): it stops heartbeating a lease it holds.
    edits: [{ file: 'client/worker-client.ts', find: '      if (!live.has(id) && knownBefore.has(id)) {\n', replace: '      if (!live.has(id)) {\n' }],
    tests: ['test/integration/worker-client-resume.test.ts'],
    expect: ['a lease granted while hello is in flight is kept and heartbeated'],
  },
  {
    name: 'hello-revives-cancelled-lease',
    promise: 'offers',
    // The client takes up every lease a hello's answer lists, also one cancelled while the hello was in flight: it heartbeats a lease it was told it lost.
    edits: [{ file: 'client/worker-client.ts', find: '      if (endedMeanwhile.has(lease.lease_id)) continue;\n', replace: '' }],
    tests: ['test/integration/worker-client-resume.test.ts'],
    expect: ['a lease cancelled while hello is in flight is not taken up again'],
  },
  {
    name: 'tap-answers-late',
    promise: 'conformance',
    // The kit's client relay passes an answer on a microtask after reading it: pushes read in the same chunk overtake it.
    edits: [{ file: 'conformance/client/tap.ts', find: '            ack?.(answer);\n', replace: '            queueMicrotask(() => ack?.(answer)); // defect: answered late\n' }],
    tests: ['test/unit/conformance-tap.test.ts'],
    expect: ['the client tap passes on answers and pushes in the order'],
  },
];
