/**
 * What one group commit's fdatasync costs the coordinator's process, where the journal syncs:
 * on the thread pool (FileHandle.datasync) or on the event loop (fdatasyncSync), each after a
 * `writeSync` of a commit's size. Prints wall time and process CPU per sync for both
 * (coordinator/store/journal-sync.ts; bench/README.md, "Where a task's time goes").
 *
 *   node --import tsx bench/fsync-cost.ts [--syncs 2000] [--bytes 2000]
 */
import { fdatasyncSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { syncs: { type: 'string', default: '2000' }, bytes: { type: 'string', default: '2000' } } });
const n = Number(values.syncs);
const dir = mkdtempSync(join(tmpdir(), 'owp-fsync-cost-'));
const handle = await open(join(dir, 'journal'), 'a');
const data = Buffer.alloc(Number(values.bytes), 120);

async function measure(label: string, sync: () => Promise<void> | void): Promise<void> {
  const cpu = process.cpuUsage();
  let onLoop = 0;
  let wall = 0;
  for (let i = 0; i < n; i += 1) {
    writeSync(handle.fd, data);
    const t = performance.now();
    const pending = sync();
    onLoop += performance.now() - t;
    await pending;
    wall += performance.now() - t;
  }
  const c = process.cpuUsage(cpu);
  console.log(JSON.stringify({ where: label, wall_us_per_sync: Math.round((wall / n) * 1000), loop_blocked_us_per_sync: Math.round((onLoop / n) * 1000), cpu_us_per_sync: Math.round((c.user + c.system) / n) }));
}

for (let round = 0; round < 2; round += 1) {
  await measure('thread pool', () => handle.datasync());
  await measure('event loop', () => fdatasyncSync(handle.fd));
}
await handle.close();
rmSync(dir, { recursive: true, force: true });
