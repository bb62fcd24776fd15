/**
 * What a key file's merge reads (coordinator/store/key-file.ts, `KeyFile.write`): the hash that
 * orders a file's records, and runs of records in hash order, memory's fresh records or an older
 * file's, as typed arrays and bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import type { KeptIdempotency } from '../state/idempotency-keys.ts';
import { compactRecord } from '../state/snapshot.ts';
import type { Turns } from '../turns.ts';
import type { KeyFile } from './key-file.ts';

/** Output is written and the oldest file read in pieces of about this size. */
export const CHUNK = 1024 * 1024;

/** The 64-bit hash of (scope, key) as two 32-bit words (cyrb53's mixing, two lanes): collisions only cost a read. */
export function keyHash(scope: string, key: string): [hi: number, lo: number] {
  // The mixing step written out in each loop, not as a closure made per call: this runs for every
  // new request's key (Runtime.prepareKey) and every record a snapshot writes.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < scope.length; i += 1) {
    const c = scope.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1, 2654435761);
  h2 = Math.imul(h2, 1597334677);
  for (let i = 0; i < key.length; i += 1) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

export function compare(hi1: number, lo1: number, hi2: number, lo2: number): number {
  return hi1 !== hi2 ? hi1 - hi2 : lo1 - lo2;
}

/**
 * A merge sort of `items` by `cmp` that lets the event loop turn (turns.ts) between runs and every
 * thousand steps: the first snapshot after a start from an older layout may sort 100,000s of keys.
 */
async function sortInSlices<T>(items: T[], cmp: (a: T, b: T) => number, turns: Turns): Promise<T[]> {
  const RUN = 2048;
  let a = items.slice();
  for (let i = 0; i < a.length; i += RUN) {
    const run = a.slice(i, i + RUN).sort(cmp);
    for (let k = 0; k < run.length; k += 1) a[i + k] = run[k] as T;
    await turns.pace();
  }
  let b = new Array<T>(a.length);
  let steps = 0;
  for (let width = RUN; width < a.length; width *= 2) {
    for (let lo = 0; lo < a.length; lo += 2 * width) {
      const mid = Math.min(lo + width, a.length);
      const hi = Math.min(lo + 2 * width, a.length);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k += 1) {
        b[k] = (j >= hi || (i < mid && cmp(a[i] as T, a[j] as T) <= 0) ? a[i++] : a[j++]) as T;
        if (((steps += 1) & 1023) === 0) await turns.pace();
      }
    }
    [a, b] = [b, a];
  }
  return a;
}

/**
 * Records in hash order as a merge reads them: their hashes, times and where each one's line lies,
 * in typed arrays, with the lines' bytes in memory (memory's fresh records, a younger file read
 * whole) or read from the file a window at a time, in order (the oldest file, the biggest).
 */
export class Run {
  /** Bytes of the window over the file's records, and where in the file it starts. */
  private window: Buffer = Buffer.alloc(0);
  private windowAt = 0;

  constructor(
    readonly hashes: Uint32Array,
    readonly at: Float64Array,
    readonly offsets: Float64Array,
    /** All the lines, or null: read from `handle` a window at a time. */
    data: Buffer | null,
    private readonly handle: FileHandle | null,
    /** Memory's records, by position in hash order (a file's record is read from its line). */
    private readonly records: readonly KeptIdempotency[] | null,
  ) {
    if (data) this.window = data;
  }

  get size(): number {
    return this.at.length;
  }

  /** Makes sure record `i`'s line is in the window: a read only when it is not (records are taken in order). */
  async load(i: number): Promise<void> {
    const start = this.offsets[i] as number;
    const end = this.offsets[i + 1] as number;
    if (start >= this.windowAt && end <= this.windowAt + this.window.length) return;
    const total = this.offsets[this.size] as number;
    // Zero-filled, not allocUnsafe: a file shorter than its index says must not copy stale memory into the next one.
    this.window = Buffer.alloc(Math.min(Math.max(CHUNK, end - start), total - start));
    this.windowAt = start;
    await this.handle?.read(this.window, 0, this.window.length, start);
  }

  /** Whether record `i`'s line is in the window (else `load` it first). */
  loaded(i: number): boolean {
    return (this.offsets[i] as number) >= this.windowAt && (this.offsets[i + 1] as number) <= this.windowAt + this.window.length;
  }

  /** Copies record `i`'s line (loaded) into `out` at `at`; answers its length. */
  copy(i: number, out: Buffer, at: number): number {
    const start = (this.offsets[i] as number) - this.windowAt;
    return this.window.copy(out, at, start, start + (this.offsets[i + 1] as number) - (this.offsets[i] as number));
  }

  length(i: number): number {
    return (this.offsets[i + 1] as number) - (this.offsets[i] as number);
  }

  /** Record `i`'s key (its line loaded): memory's is known, a file's is parsed from its line. */
  key(i: number): string {
    const known = this.records?.[i];
    if (known) return `${known.scope}\u0000${known.key}`;
    const start = (this.offsets[i] as number) - this.windowAt;
    const rec = JSON.parse(this.window.toString('utf8', start, start + this.length(i))) as KeptIdempotency;
    return `${rec.scope}\u0000${rec.key}`;
  }

  static fromFile(file: KeyFile, data: Buffer | null): Run {
    return new Run(file.hashes, file.at, file.offsets, data, data ? null : file.handle, null);
  }

  /**
   * Memory's records used after `cutoff`, hashed, sorted by hash, then each encoded as its JSON
   * line straight into one buffer in that order: typed arrays and bytes, no object per record
   * (20,000 of those per snapshot lived through the snapshot's turns and were promoted, then
   * collected as old garbage).
   */
  static async fresh(records: readonly KeptIdempotency[], cutoff: number, turns: Turns): Promise<Run> {
    const live: number[] = [];
    const byRecord = new Uint32Array(2 * records.length);
    for (let i = 0; i < records.length; i += 1) {
      const rec = records[i] as KeptIdempotency;
      if (rec.at > cutoff) {
        const [hi, lo] = keyHash(rec.scope, rec.key);
        byRecord[2 * i] = hi;
        byRecord[2 * i + 1] = lo;
        live.push(i);
      }
      if ((i & 255) === 255) await turns.pace();
    }
    const order = await sortInSlices(live, (a, b) => compare(byRecord[2 * a] as number, byRecord[2 * a + 1] as number, byRecord[2 * b] as number, byRecord[2 * b + 1] as number), turns);
    const n = order.length;
    const hashes = new Uint32Array(2 * n);
    const at = new Float64Array(n);
    const offsets = new Float64Array(n + 1);
    const sorted: KeptIdempotency[] = new Array(n);
    // Grown by doubling from a first guess of 200 bytes a record, at most 8 MB up front.
    let data = Buffer.allocUnsafe(Math.min(8 * 1024 * 1024, Math.max(1024, n * 200)));
    let used = 0;
    for (let k = 0; k < n; k += 1) {
      const i = order[k] as number;
      const rec = records[i] as KeptIdempotency;
      const line = `${JSON.stringify(rec.answer === undefined ? rec : compactRecord(rec))}\n`;
      if (data.length - used < 3 * line.length) {
        const bigger = Buffer.allocUnsafe(2 * data.length + 3 * line.length);
        data.copy(bigger, 0, 0, used);
        data = bigger;
      }
      hashes[2 * k] = byRecord[2 * i] as number;
      hashes[2 * k + 1] = byRecord[2 * i + 1] as number;
      at[k] = rec.at;
      sorted[k] = rec;
      offsets[k] = used;
      used += data.write(line, used);
      offsets[k + 1] = used;
      if ((k & 255) === 255) await turns.pace();
    }
    return new Run(hashes, at, offsets, data.subarray(0, used), null, sorted);
  }
}
