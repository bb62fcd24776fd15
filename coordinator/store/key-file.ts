/**
 * The idempotency records a snapshot covers, kept beside it instead of inside it (lowdb): a start
 * reads a compact binary index of them as typed arrays, without parsing a record, and a request
 * whose key is not in memory looks its hash up there (a binary search in memory, no I/O for a new
 * key); only a hit reads its record from the file. So a start costs the keys since the snapshot,
 * not 24 h of keys (SPEC §5.12 keeps them that long), and memory holds only those.
 *
 * Layout (numbers in the machine's byte order, which is checked at open):
 *   records   one JSON line per record (the snapshot's compact form), sorted by hash
 *   padding   to a multiple of 8 bytes
 *   hashes    Uint32Array, 2 per record: the 64-bit hash of (scope, key), high word first
 *   at        Float64Array, 1 per record: when the key was first used (expiry without a read)
 *   offsets   Float64Array, count + 1: where each record starts, then where the records end
 *   trailer   32 bytes: "OWPKEYS1", count and where the index starts (float64), 8 bytes unused
 * Written to a temporary name, fsynced and renamed before the snapshot that names it commits.
 */
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeptIdempotency } from '../state/idempotency-keys.ts';
import { compactRecord } from '../state/snapshot.ts';
import type { StoreIo } from './lowdb.ts';
import { Turns } from '../turns.ts';

const MAGIC = 'OWPKEYS1';
const TRAILER = 32;
/** Output is written and the previous file read in pieces of about this size, yielding between them. */
const CHUNK = 1024 * 1024;

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

function compare(hi1: number, lo1: number, hi2: number, lo2: number): number {
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
class Run {
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
    /** A fresh record's key, by position (a file's is read from its line). */
    private readonly keys: ReadonlyArray<readonly [scope: string, key: string]> | null,
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
    const known = this.keys?.[i];
    if (known) return `${known[0]}\u0000${known[1]}`;
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
    const keys: Array<readonly [string, string]> = new Array(n);
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
      keys[k] = [rec.scope, rec.key];
      offsets[k] = used;
      used += data.write(line, used);
      offsets[k + 1] = used;
      if ((k & 255) === 255) await turns.pace();
    }
    return new Run(hashes, at, offsets, data.subarray(0, used), null, keys);
  }
}

/** Records a snapshot covers, found by key: the store's current key file, or none. */
export class KeyFile {
  /** Look-ups that went to the disk so far (`find` calls): a new key must never cost one. */
  reads = 0;

  private constructor(
    readonly path: string | null,
    /** The index and the open file, read by a merge (`Run.fromFile`) as well as by look-ups. */
    readonly handle: FileHandle | null,
    readonly hashes: Uint32Array,
    readonly at: Float64Array,
    readonly offsets: Float64Array,
  ) {}

  static empty(): KeyFile {
    return new KeyFile(null, null, new Uint32Array(0), new Float64Array(0), new Float64Array(1));
  }

  /** Opens a key file and reads its index (not its records). Throws when it is not a whole key file. */
  static async open(path: string): Promise<KeyFile> {
    const size = (await stat(path)).size;
    const handle = await open(path, 'r');
    try {
      if (size < TRAILER) throw new Error(`${path} is too short to be a key file`);
      const trailer = Buffer.alloc(TRAILER);
      await handle.read(trailer, 0, TRAILER, size - TRAILER);
      const count = trailer.readDoubleLE(8);
      const indexAt = trailer.readDoubleLE(16);
      if (trailer.toString('latin1', 0, 8) !== MAGIC || !Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(indexAt) || indexAt % 8 !== 0 || indexAt + 24 * count + 8 + TRAILER !== size) {
        throw new Error(`${path} is not a whole OWP key file`);
      }
      // A fresh ArrayBuffer: typed arrays over it need its alignment, which a pooled Buffer may not have.
      const index = new ArrayBuffer(24 * count + 8);
      await handle.read(new Uint8Array(index), 0, index.byteLength, indexAt);
      const offsets = new Float64Array(index, 16 * count, count + 1);
      if ((offsets[count] as number) > indexAt || (count > 0 && offsets[0] !== 0)) throw new Error(`${path} has a damaged index (or another byte order)`);
      return new KeyFile(path, handle, new Uint32Array(index, 0, 2 * count), new Float64Array(index, 8 * count, count), offsets);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get size(): number {
    return this.at.length;
  }

  /**
   * Whether the file may hold this key used after `notBefore`: a binary search of the hashes in
   * memory, no I/O. False is certain; true is almost always a hit (`find` reads and checks it).
   */
  mayHold(scope: string, key: string, notBefore: number): boolean {
    const [hi, lo] = keyHash(scope, key);
    return this.mayHoldHash(hi, lo, notBefore);
  }

  /** `mayHold` for a key already hashed (`keyHash`). */
  mayHoldHash(hi: number, lo: number, notBefore: number): boolean {
    for (let i = this.lowerBound(hi, lo); i < this.at.length && this.hashes[2 * i] === hi && this.hashes[2 * i + 1] === lo; i += 1) {
      if ((this.at[i] as number) > notBefore) return true;
    }
    return false;
  }

  /** The record of a key used after `notBefore`, read from the file; undefined when it is not there. */
  async find(scope: string, key: string, notBefore: number): Promise<KeptIdempotency | undefined> {
    this.reads += 1;
    const [hi, lo] = keyHash(scope, key);
    for (let i = this.lowerBound(hi, lo); i < this.at.length && this.hashes[2 * i] === hi && this.hashes[2 * i + 1] === lo; i += 1) {
      if ((this.at[i] as number) <= notBefore) continue;
      const rec = await this.record(i);
      if (rec.scope === scope && rec.key === key) return rec;
    }
    return undefined;
  }

  /** The oldest and newest times its keys were first used, found once (a file never changes). */
  private span: [oldest: number, newest: number] | null = null;

  /** When the newest key in the file was first used (-Infinity for an empty file). */
  newestAt(): number {
    return this.timeSpan()[1];
  }

  /**
   * How many of its keys were first used at or before `cutoff` (expired): none or all without a
   * scan when the cutoff is outside its span, else a scan of the times in memory (the snapshot's
   * plan runs it on the loop: a few ms per million keys, for the file the cutoff falls in).
   */
  expiredBy(cutoff: number): number {
    const [oldest, newest] = this.timeSpan();
    if (oldest > cutoff) return 0;
    if (newest <= cutoff) return this.at.length;
    let n = 0;
    for (let i = 0; i < this.at.length; i += 1) if ((this.at[i] as number) <= cutoff) n += 1;
    return n;
  }

  private timeSpan(): [number, number] {
    if (this.span) return this.span;
    let oldest = Number.POSITIVE_INFINITY;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.at.length; i += 1) {
      const t = this.at[i] as number;
      if (t < oldest) oldest = t;
      if (t > newest) newest = t;
    }
    this.span = [oldest, newest];
    return this.span;
  }

  /** Lets go of the file (after a newer one replaced it). */
  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
  }

  private async record(i: number): Promise<KeptIdempotency> {
    if (!this.handle) throw new Error('an empty key file has no records');
    const start = this.offsets[i] as number;
    const bytes = Buffer.alloc((this.offsets[i + 1] as number) - start);
    await this.handle.read(bytes, 0, bytes.length, start);
    return JSON.parse(bytes.toString('utf8')) as KeptIdempotency;
  }

  private lowerBound(hi: number, lo: number): number {
    let a = 0;
    let b = this.at.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (compare(this.hashes[2 * mid] as number, this.hashes[2 * mid + 1] as number, hi, lo) < 0) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /**
   * The new key file of a snapshot: `records` (memory's, the newest), the `younger` files (oldest
   * first) and `previous` (the oldest) merged in one pass in hash order, each record used after
   * `cutoff` once per key, the newest source's winning. Every source is already in hash order
   * (memory's is sorted once), so the merge reads each record once and copies its line's bytes,
   * with no object per record and no second sort: the files it merges were re-sorted as objects
   * before, most of a snapshot's cost in the cycle phase (bench/key-file-cost.ts). The oldest file
   * is read a window at a time, the output written a chunk at a time, and the loop lets the event
   * loop turn every 2 ms (turns.ts).
   */
  static async write(path: string, io: StoreIo, previous: KeyFile, records: readonly KeptIdempotency[], cutoff: number, younger: readonly KeyFile[] = [], syncEvery = 0): Promise<KeyFile> {
    const turns = new Turns();
    // Newest first: on a key held by several, the first one's record is kept.
    const runs: Run[] = [await Run.fresh(records, cutoff, turns)];
    for (let y = younger.length - 1; y >= 0; y -= 1) {
      const file = younger[y] as KeyFile;
      if (!file.handle || file.size === 0) continue;
      const data = Buffer.alloc(file.offsets[file.size] as number);
      await file.handle.read(data, 0, data.length, 0);
      runs.push(Run.fromFile(file, data));
    }
    if (previous.handle && previous.size > 0) runs.push(Run.fromFile(previous, null));

    const tmp = `${path}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    // The index, at most every record of all: typed arrays filled in place, not arrays of numbers.
    const capacity = runs.reduce((n, r) => n + r.size, 0);
    const hashes = new Uint32Array(2 * capacity);
    const ats = new Float64Array(capacity);
    const offsets = new Float64Array(capacity + 1);
    let count = 0;
    let written = 0;
    let synced = 0;
    let chunk = Buffer.allocUnsafe(CHUNK);
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used === 0) return;
      // A new chunk after each write: an io layer (tests') may keep the bytes it was handed.
      const full = chunk.subarray(0, used);
      chunk = Buffer.allocUnsafe(CHUNK);
      await io.write('snapshot', handle, full);
      written += used;
      used = 0;
      // Synced a few MB at a time, as state.json is (FsyncJsonFile): a journal fdatasync never waits behind all of it.
      if (syncEvery > 0 && written - synced >= syncEvery) {
        synced = written;
        await io.sync('snapshot', handle);
      }
    };
    /** Appends record `i` of `run` (its line loaded) to the output and the index. */
    const emit = async (run: Run, i: number): Promise<void> => {
      const length = run.length(i);
      if (used + length > chunk.length) {
        await flush();
        if (length > chunk.length) chunk = Buffer.allocUnsafe(length);
      }
      hashes[2 * count] = run.hashes[2 * i] as number;
      hashes[2 * count + 1] = run.hashes[2 * i + 1] as number;
      ats[count] = run.at[i] as number;
      offsets[count] = written + used;
      count += 1;
      used += run.copy(i, chunk, used);
    };
    try {
      const next = new Array<number>(runs.length).fill(0);
      for (let steps = 1; ; steps += 1) {
        if ((steps & 255) === 0) await turns.pace();
        // The least hash under the runs' cursors (expired records skipped); on a tie, the newest run's.
        let best = -1;
        let hi = 0;
        let lo = 0;
        for (let r = 0; r < runs.length; r += 1) {
          const run = runs[r] as Run;
          let i = next[r] as number;
          while (i < run.size && (run.at[i] as number) <= cutoff) i += 1;
          next[r] = i;
          if (i >= run.size) continue;
          const h = run.hashes[2 * i] as number;
          const l = run.hashes[2 * i + 1] as number;
          if (best < 0 || compare(h, l, hi, lo) < 0) {
            best = r;
            hi = h;
            lo = l;
          }
        }
        if (best < 0) break;
        // Every live record with this hash, newest run first: almost always just the one.
        const same: Array<[Run, number]> = [];
        for (let r = best; r < runs.length; r += 1) {
          const run = runs[r] as Run;
          let i = next[r] as number;
          for (; i < run.size && run.hashes[2 * i] === hi && run.hashes[2 * i + 1] === lo; i += 1) {
            if ((run.at[i] as number) > cutoff) same.push([run, i]);
          }
          next[r] = i;
        }
        if (same.length === 1) {
          const [run, i] = same[0] as [Run, number];
          if (!run.loaded(i)) await run.load(i);
          await emit(run, i);
          continue;
        }
        // A key in several runs (read back into memory, then covered again), or two keys sharing a hash.
        const seen = new Set<string>();
        for (const [run, i] of same) {
          if (!run.loaded(i)) await run.load(i);
          const key = run.key(i);
          if (seen.has(key)) continue;
          seen.add(key);
          await emit(run, i);
        }
      }
      await flush();
      offsets[count] = written;
      const pad = (8 - (written % 8)) % 8;
      const indexAt = written + pad;
      const index = new ArrayBuffer(24 * count + 8 + TRAILER);
      new Uint32Array(index, 0, 2 * count).set(hashes.subarray(0, 2 * count));
      new Float64Array(index, 8 * count, count).set(ats.subarray(0, count));
      new Float64Array(index, 16 * count, count + 1).set(offsets.subarray(0, count + 1));
      const trailer = Buffer.from(index, 24 * count + 8, TRAILER);
      trailer.write(MAGIC, 0, 'latin1');
      trailer.writeDoubleLE(count, 8);
      trailer.writeDoubleLE(indexAt, 16);
      await io.write('snapshot', handle, Buffer.concat([Buffer.alloc(pad), Buffer.from(index)]));
      await io.sync('snapshot', handle);
      await handle.close();
      await io.rename(tmp, path);
      await io.syncDir(dirname(path));
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    return KeyFile.open(path);
  }
}
