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
import type { StoreIo } from './lowdb.ts';
import { Turns } from '../turns.ts';
import { CHUNK, compare, keyHash, Run } from './key-runs.ts';

export { keyHash } from './key-runs.ts';

const MAGIC = 'OWPKEYS1';
const TRAILER = 32;

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
    /** Makes room in the output chunk for `length` bytes: a write only when it is full. */
    const room = async (length: number): Promise<void> => {
      await flush();
      if (length > chunk.length) chunk = Buffer.allocUnsafe(length);
    };
    /** Appends record `i` of `run` (its line loaded, room made) to the output and the index. */
    const emit = (run: Run, i: number): void => {
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
        // Almost always the only record with this hash: emitted with no allocation and no await
        // unless its line must be read or the chunk is full (this runs for every record merged).
        const first = runs[best] as Run;
        const at = next[best] as number;
        let alone = at + 1 >= first.size || first.hashes[2 * at + 2] !== hi || first.hashes[2 * at + 3] !== lo;
        for (let r = best + 1; alone && r < runs.length; r += 1) {
          const run = runs[r] as Run;
          const i = next[r] as number;
          alone = i >= run.size || run.hashes[2 * i] !== hi || run.hashes[2 * i + 1] !== lo;
        }
        if (alone) {
          if (!first.loaded(at)) await first.load(at);
          if (used + first.length(at) > chunk.length) await room(first.length(at));
          emit(first, at);
          next[best] = at + 1;
          continue;
        }
        // Every live record with this hash, newest run first.
        const same: Array<[Run, number]> = [];
        for (let r = best; r < runs.length; r += 1) {
          const run = runs[r] as Run;
          let i = next[r] as number;
          for (; i < run.size && run.hashes[2 * i] === hi && run.hashes[2 * i + 1] === lo; i += 1) {
            if ((run.at[i] as number) > cutoff) same.push([run, i]);
          }
          next[r] = i;
        }
        // A key in several runs (read back into memory, then covered again), or two keys sharing a hash.
        const seen = new Set<string>();
        for (const [run, i] of same) {
          if (!run.loaded(i)) await run.load(i);
          const key = run.key(i);
          if (seen.has(key)) continue;
          seen.add(key);
          if (used + run.length(i) > chunk.length) await room(run.length(i));
          emit(run, i);
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
