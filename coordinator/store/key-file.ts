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

const MAGIC = 'OWPKEYS1';
const TRAILER = 32;
/** Output is written and the previous file read in pieces of about this size, yielding between them. */
const CHUNK = 1024 * 1024;

/** The 64-bit hash of (scope, key) as two 32-bit words (cyrb53's mixing, two lanes): collisions only cost a read. */
export function keyHash(scope: string, key: string): [hi: number, lo: number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const mix = (c: number): void => {
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  };
  for (let i = 0; i < scope.length; i += 1) mix(scope.charCodeAt(i));
  mix(0);
  for (let i = 0; i < key.length; i += 1) mix(key.charCodeAt(i));
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

function compare(hi1: number, lo1: number, hi2: number, lo2: number): number {
  return hi1 !== hi2 ? hi1 - hi2 : lo1 - lo2;
}

/** A record from memory on its way into a key file. */
interface Fresh {
  hi: number;
  lo: number;
  at: number;
  /** Its key; for a record from a younger file, read from its line only when a hash is shared (`identify`). */
  scope: string | undefined;
  key: string | undefined;
  /** Its JSON line, until encoded into the fresh records' one buffer; then where it lies in `data`. */
  line: string;
  data: Buffer;
  start: number;
  end: number;
}

/** Fills in a record's key from its line (records from younger files carry only their hash). */
function identify(f: Fresh): void {
  if (f.scope !== undefined) return;
  const rec = JSON.parse(f.data.toString('utf8', f.start, f.end)) as KeptIdempotency;
  f.scope = rec.scope;
  f.key = rec.key;
}

/**
 * A merge sort that yields to the event loop every few thousand steps: the first snapshot after a
 * start from an older layout may sort 100,000s of keys, tens of ms in one `Array.sort`.
 */
async function sortInSlices<T>(items: T[], cmp: (a: T, b: T) => number): Promise<T[]> {
  const RUN = 2048;
  const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  let a = items.slice();
  for (let i = 0; i < a.length; i += RUN) {
    const run = a.slice(i, i + RUN).sort(cmp);
    for (let k = 0; k < run.length; k += 1) a[i + k] = run[k] as T;
    if (i + RUN < a.length) await yieldNow();
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
        if ((steps += 1) % 16_384 === 0) await yieldNow();
      }
    }
    [a, b] = [b, a];
  }
  return a;
}

/** Records a snapshot covers, found by key: the store's current key file, or none. */
export class KeyFile {
  /** Look-ups that went to the disk so far (`find` calls): a new key must never cost one. */
  reads = 0;

  private constructor(
    readonly path: string | null,
    private readonly handle: FileHandle | null,
    private readonly hashes: Uint32Array,
    private readonly at: Float64Array,
    private readonly offsets: Float64Array,
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
   * The records of `previous` used after `cutoff`, merged with `records` (newer: on the same key
   * they win) used after it, as one pass over both in hash order. The previous file's records are
   * copied in runs, each the bytes between two fresh records (or a dropped one) read and written as
   * one piece, so a snapshot costs about a copy of the file plus its fresh records, not work per
   * record kept (a key file holds 24 h of keys: per-record work grew every snapshot's cost with
   * history, bench/README.md "What a transition costs"). The previous file is read in pieces and
   * the output written in pieces, each an await, so the event loop keeps turning.
   */
  static async write(path: string, io: StoreIo, previous: KeyFile, records: readonly KeptIdempotency[], cutoff: number, younger: readonly KeyFile[] = [], syncEvery = 0): Promise<KeyFile> {
    const fresh: Fresh[] = [];
    const none = Buffer.alloc(0);
    for (let i = 0; i < records.length; i += 1) {
      const rec = records[i] as KeptIdempotency;
      if (rec.at <= cutoff) continue;
      const [hi, lo] = keyHash(rec.scope, rec.key);
      fresh.push({ hi, lo, at: rec.at, scope: rec.scope, key: rec.key, line: `${JSON.stringify(compactRecord(rec))}\n`, data: none, start: 0, end: 0 });
      if ((i & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
    }
    let sorted = await sortInSlices(fresh, (a, b) => compare(a.hi, a.lo, b.hi, b.lo));
    // Encoded in hash order into one buffer (a Buffer per line cost more than the line's JSON), so
    // the fresh records between two previous ones are one piece of output.
    let freshBytes = 0;
    for (const f of sorted) freshBytes += Buffer.byteLength(f.line);
    const freshData = Buffer.allocUnsafe(freshBytes);
    for (let i = 0, at = 0; i < sorted.length; i += 1) {
      const f = sorted[i] as Fresh;
      f.data = freshData;
      f.start = at;
      at += freshData.write(f.line, at);
      f.end = at;
      f.line = '';
    }
    if (younger.length > 0) {
      // Younger files' records join memory's as bytes, never parsed (a merge of key files is a copy),
      // newest first so that a stable sort keeps the newest of a key first; then one of each key.
      for (let y = younger.length - 1; y >= 0; y -= 1) {
        const file = younger[y] as KeyFile;
        if (!file.handle || file.size === 0) continue;
        const data = Buffer.alloc(file.offsets[file.size] as number);
        await file.handle.read(data, 0, data.length, 0);
        for (let i = 0; i < file.size; i += 1) {
          if ((file.at[i] as number) <= cutoff) continue;
          fresh.push({ hi: file.hashes[2 * i] as number, lo: file.hashes[2 * i + 1] as number, at: file.at[i] as number, scope: undefined, key: undefined, line: '', data, start: file.offsets[i] as number, end: file.offsets[i + 1] as number });
        }
      }
      sorted = await sortInSlices(fresh, (a, b) => compare(a.hi, a.lo, b.hi, b.lo));
      const unique: Fresh[] = [];
      for (let i = 0, group = 0; i < sorted.length; i += 1) {
        const f = sorted[i] as Fresh;
        if (group < unique.length && ((unique[group] as Fresh).hi !== f.hi || (unique[group] as Fresh).lo !== f.lo)) group = unique.length;
        let seen = false;
        for (let g = group; !seen && g < unique.length; g += 1) {
          identify(f);
          identify(unique[g] as Fresh);
          seen = (unique[g] as Fresh).scope === f.scope && (unique[g] as Fresh).key === f.key;
        }
        if (!seen) unique.push(f);
      }
      sorted = unique;
    }

    const tmp = `${path}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    // The index, at most every record of both: typed arrays filled in place, not arrays of numbers.
    const capacity = previous.size + sorted.length;
    const hashes = new Uint32Array(2 * capacity);
    const ats = new Float64Array(capacity);
    const offsets = new Float64Array(capacity + 1);
    let count = 0;
    /** Bytes of output so far: written, and pending in `pending`. */
    let out = 0;
    let written = 0;
    let synced = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      written += pendingBytes;
      pendingBytes = 0;
      await io.write('snapshot', handle, data);
      // Synced a few MB at a time, as state.json is (FsyncJsonFile): a journal fdatasync never waits behind all of it.
      if (syncEvery > 0 && written - synced >= syncEvery) {
        synced = written;
        await io.sync('snapshot', handle);
      }
    };
    const push = async (bytes: Buffer): Promise<void> => {
      pending.push(bytes);
      pendingBytes += bytes.length;
      out += bytes.length;
      if (pendingBytes >= CHUNK) await flush();
    };
    const indexRecord = (hi: number, lo: number, at: number, offset: number): void => {
      hashes[2 * count] = hi;
      hashes[2 * count + 1] = lo;
      ats[count] = at;
      offsets[count] = offset;
      count += 1;
    };
    /** Fresh records [from, to) of `sorted`, in hash order: a piece of output per run lying together in one buffer. */
    const emitFresh = async (from: number, to: number): Promise<void> => {
      for (let run = from; run < to; ) {
        const first = sorted[run] as Fresh;
        let end = run + 1;
        while (end < to && (sorted[end] as Fresh).data === first.data && (sorted[end] as Fresh).start === (sorted[end - 1] as Fresh).end) end += 1;
        const base = out - first.start;
        for (let k = run; k < end; k += 1) indexRecord((sorted[k] as Fresh).hi, (sorted[k] as Fresh).lo, (sorted[k] as Fresh).at, base + (sorted[k] as Fresh).start);
        await push(first.data.subarray(first.start, (sorted[end - 1] as Fresh).end));
        run = end;
      }
    };
    try {
      // The previous file's bytes, read a piece at a time in file order (which is hash order).
      let window = Buffer.alloc(0);
      let windowAt = 0;
      const previousBytes = async (start: number, end: number): Promise<Buffer> => {
        if (start < windowAt || end > windowAt + window.length) {
          const length = Math.max(CHUNK, end - start);
          // A fresh buffer each time: pieces of the last one may still wait in `pending`.
          window = Buffer.alloc(Math.min(length, (previous.offsets[previous.size] as number) - start));
          windowAt = start;
          await previous.handle?.read(window, 0, window.length, start);
        }
        return window.subarray(start - windowAt, end - windowAt);
      };
      /** Previous records [runStart, i) are kept and lie together in its file: one piece of output. */
      let runStart = 0;
      const endRun = async (end: number): Promise<void> => {
        if (end > runStart) {
          const from = previous.offsets[runStart] as number;
          for (let k = runStart; k < end; k += 1) indexRecord(previous.hashes[2 * k] as number, previous.hashes[2 * k + 1] as number, previous.at[k] as number, out + (previous.offsets[k] as number) - from);
          await push(await previousBytes(from, previous.offsets[end] as number));
        }
        runStart = end;
      };
      let j = 0;
      for (let i = 0; i < previous.size; i += 1) {
        const hi = previous.hashes[2 * i] as number;
        const lo = previous.hashes[2 * i + 1] as number;
        if (j < sorted.length && compare((sorted[j] as Fresh).hi, (sorted[j] as Fresh).lo, hi, lo) < 0) {
          await endRun(i);
          const from = j;
          for (; j < sorted.length && compare((sorted[j] as Fresh).hi, (sorted[j] as Fresh).lo, hi, lo) < 0; j += 1);
          await emitFresh(from, j);
        }
        let drop = (previous.at[i] as number) <= cutoff;
        // Same hash as a fresh record (almost always the same key, a record read back into memory): the fresh one wins.
        for (let k = j; !drop && k < sorted.length && (sorted[k] as Fresh).hi === hi && (sorted[k] as Fresh).lo === lo; k += 1) {
          const old = JSON.parse((await previousBytes(previous.offsets[i] as number, previous.offsets[i + 1] as number)).toString('utf8')) as KeptIdempotency;
          identify(sorted[k] as Fresh);
          drop = old.scope === (sorted[k] as Fresh).scope && old.key === (sorted[k] as Fresh).key;
        }
        if (drop) {
          await endRun(i);
          runStart = i + 1;
        } else if ((previous.offsets[i] as number) - (previous.offsets[runStart] as number) >= CHUNK) {
          await endRun(i);
        }
      }
      await endRun(previous.size);
      await emitFresh(j, sorted.length);
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
