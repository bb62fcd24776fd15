/**
 * What the idempotency key files cost a snapshot as the keys of the day pile up (lowdb): the
 * records a snapshot covers written beside it, merged with the files before it by the store's plan
 * (coordinator/store/key-segments.ts), snapshot after snapshot, no other work in the process.
 * `--max-files 1` is the layout before segments (every snapshot rewrites all of the day's keys into
 * one file); the default (12) writes each snapshot's keys as a new file and merges files when their
 * sizes match. Prints the process CPU, the bytes written and the files per snapshot.
 *
 *   node --import tsx bench/key-file-cost.ts [--fresh 15000] [--snapshots 20] [--max-files 1,12]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KeptIdempotency } from '../coordinator/state/idempotency-keys.ts';
import { KeySegments } from '../coordinator/store/key-segments.ts';
import { NODE_STORE_IO, type StoreIo } from '../coordinator/store/lowdb.ts';

const { values } = parseArgs({ options: { fresh: { type: 'string', default: '15000' }, snapshots: { type: 'string', default: '20' }, 'max-files': { type: 'string', default: '1,12' } } });
const FRESH = Number(values.fresh);
const SNAPSHOTS = Number(values.snapshots);

let written = 0;
const io: StoreIo = { ...NODE_STORE_IO, write: (file, handle, data) => ((written += data.length), NODE_STORE_IO.write(file, handle, data)) };
// Records shaped as the cycle phase's: an accept or a release by a worker, its seq and hash.
const record = (n: number, at: number): KeptIdempotency => ({ scope: `w:wrk_${(n % 200).toString(36).padStart(12, '0')}`, key: `${n.toString(16).padStart(8, '0')}-4a1f-4b2c-9d3e-0123456789ab`, op: n % 2 ? 'lease.release' : 'offer.accept', hash: `sha256:${(n * 2654435761 >>> 0).toString(16).padStart(8, '0')}${'0'.repeat(56)}`, at, seq: n + 1 });

for (const maxFiles of values['max-files'].split(',').map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'owp-keycost-'));
  let keys = KeySegments.empty();
  let lastFresh = 0;
  const rows: Array<{ cpu_ms: number; mb: number; files: number }> = [];
  for (let s = 0; s < SNAPSHOTS; s += 1) {
    const records = Array.from({ length: FRESH }, (_, i) => record(s * FRESH + i, 1_000 + s));
    const cpu = process.cpuUsage();
    written = 0;
    const plan = keys.plan(0, maxFiles, lastFresh);
    const file = await KeySegments.writeMerged(join(dir, `keys-${s}.bin`), io, plan.merged, records, 0);
    const next = new KeySegments([...plan.kept, file]);
    for (const old of keys.files) {
      if (next.files.includes(old)) continue;
      await old.close();
      await unlink(old.path as string);
    }
    keys = next;
    lastFresh = records.length;
    const used = process.cpuUsage(cpu);
    rows.push({ cpu_ms: Math.round((used.user + used.system) / 1000), mb: Math.round(written / 1e5) / 10, files: keys.files.length });
  }
  const total = rows.reduce((n, r) => n + r.cpu_ms, 0);
  console.log(JSON.stringify({ max_files: maxFiles, keys: keys.size, cpu_ms_per_snapshot: rows.map((r) => r.cpu_ms), mb_per_snapshot: rows.map((r) => r.mb), files: rows.map((r) => r.files), cpu_ms_total: total, mb_total: Math.round(rows.reduce((n, r) => n + r.mb, 0)) }));
  await keys.close();
  rmSync(dir, { recursive: true, force: true });
}
