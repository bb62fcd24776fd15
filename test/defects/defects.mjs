// Deliberately broken variants of OWP, one per guarantee the README lists, and the tests that must
// fail on each. `npm run test:defects` applies each edit to a copy of the working tree (nothing in
// the product knows about them) and runs the tests. An edit is an exact find/replace that must
// match once, so a refactor that moves the code makes the runner say so instead of passing.

const CRASH_LOOP = 'test/reliability/crash-loop.test.ts';
const CRASH_LOOP_TEST = 'coordinator SIGKILLed and its disk power-failed';
// Defects that only some power failures expose get more loops.
const LOOPS = { OWP_CRASH_LOOPS: '8' };

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
      find: '          await this.store.append(batch);\n          this.durableSeq = (batch.at(-1) as StoredEvent).seq;\n          this.eventsSinceSnapshot += batch.length;\n          for (const w of waiters) w.resolve();',
      replace: '          for (const w of waiters) w.resolve(); // defect: answered before the write is durable\n          await this.store.append(batch);\n          this.durableSeq = (batch.at(-1) as StoredEvent).seq;\n          this.eventsSinceSnapshot += batch.length;',
    }],
    tests: ['test/reliability/durability-hooks.test.ts', CRASH_LOOP],
    expect: ['an answer waits for the journal sync', CRASH_LOOP_TEST],
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
    tests: ['test/reliability/storage-faults.test.ts'],
    expect: ['a failing snapshot'],
  },
  {
    name: 'degraded-refuses-reads',
    promise: 'storage',
    edits: [{ file: 'coordinator/runtime.ts', find: '      if (descriptor.mutating && !descriptor.idempotentByNature && this.degraded) {', replace: '      if (this.degraded) { // defect: reads are refused too' }],
    tests: ['test/reliability/storage-faults.test.ts'],
    expect: ['a full disk'],
  },
];
