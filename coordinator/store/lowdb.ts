/**
 * The embedded default store: a lowdb JSON snapshot (`state.json`) written through an adapter that
 * fsyncs, and the audit journal as an append-only JSON-lines file (`journal.jsonl`) kept out of the
 * snapshot. A directory lock keeps two coordinators off one data directory.
 *
 * Journal segments: once the active file passes `segmentBytes` and a snapshot covers all of it, it is
 * closed — renamed to `journal-segments/<first seq>-<last seq>.jsonl` — and a new `journal.jsonl`
 * begins. Closed segments are kept for audit and served by readJournal, never replayed: a restart
 * reads `state.json` and the active file from where the snapshot ends, whatever the history's size.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, constants as fsConstants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Low, type Adapter } from 'lowdb';
import type { KeptIdempotency } from '../state/idempotency-keys.ts';
import type { Snapshot } from '../state/snapshot.ts';
import { storedEventJson, type StoredEvent } from '../state/stored-event.ts';
import { StoreCorruptError, type CoveredKeys, type Loaded, type SnapshotSink, type Store } from './store.ts';
import { KeyFile } from './key-file.ts';
import { DEFAULT_MAX_KEY_FILES, KeySegments, type KeyPlan } from './key-segments.ts';
import { lastEvent, lineOffsets, listSegments, pad12, readFrom, scanLines, type Segment } from './journal-files.ts';

/** What state.json holds: the snapshot plus where in the journal it ends. */
type SnapshotFile = Snapshot & {
  journal_offset: number;
  /** The seq just before the active journal file's first event (the last closed segment's end); 0 without segments. */
  journal_base?: number;
  /** The key files beside it holding the idempotency records it covers, oldest first (key-segments.ts); absent when it holds them itself. */
  key_files?: string[];
  /** The one key file of a snapshot written before key files came in segments: read as `key_files: [key_file]`. */
  key_file?: string;
};

/** Key files, and what a crash may leave of one being written. */
const KEY_FILE_NAME = /^keys-\d{12}-[0-9a-f]{8}\.bin(\.tmp)?$/;

/** A snapshot's files are synced every this many bytes as they are written (LowdbStoreOptions.snapshotSyncBytes). */
export const DEFAULT_SNAPSHOT_SYNC_BYTES = 4 * 1024 * 1024;

/** Closing the active journal file past this size keeps a restart's read of it bounded. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Which file a write or sync is for, so a test can delay, fail or drop one kind only. */
export type StoreFile = 'journal' | 'snapshot' | 'probe';

/**
 * The file-system calls whose order and failure decide durability. The store answers only after
 * `sync` resolves; tests inject a layer that delays, fails or tears these calls to watch that
 * (test/reliability/durability-hooks.test.ts), and the crash loops run the default one on a file
 * system that forgets what was not synced (test/lossyfs/).
 */
export interface StoreIo {
  /** Writes all of `data` at the handle's position (append for the journal). */
  write(file: StoreFile, handle: FileHandle, data: Buffer): Promise<void>;
  /** Makes a file's data durable: fdatasync for the journal, fsync for the others. */
  sync(file: StoreFile, handle: FileHandle): Promise<void>;
  /** Makes a directory's entries durable (after a create or a rename in it). */
  syncDir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

export const NODE_STORE_IO: StoreIo = {
  async write(file, handle, data) {
    // write(2) may write less than asked (a disk filling up); a short write must not pass for a whole one.
    for (let offset = 0; offset < data.length; ) {
      // The journal's write goes to the page cache on the loop itself: a group commit is a few KB,
      // and handing it to the thread pool cost a thread wake-up and a loop wake-up per commit, more
      // than the copy (bench/README.md, "Where a task's time goes"). Its fdatasync, which waits for
      // the disk, stays on the thread pool. A snapshot (MBs) is written off the loop as before.
      const bytesWritten = file === 'journal' ? writeSync(handle.fd, data, offset, data.length - offset) : (await handle.write(data, offset, data.length - offset)).bytesWritten;
      if (bytesWritten === 0) throw Object.assign(new Error('ENOSPC: the write made no progress'), { code: 'ENOSPC' });
      offset += bytesWritten;
    }
  },
  sync: (file, handle) => (file === 'journal' ? handle.datasync() : handle.sync()),
  async syncDir(dir) {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => rename(from, to),
};

/**
 * lowdb's stock TextFile adapter renames without fsync, so a power cut can leave an empty file.
 * This adapter writes a temp file, fsyncs it, renames it over the target and fsyncs the folder.
 */
export class FsyncJsonFile<T> implements Adapter<T> {
  /** Bytes of the file the last read() parsed (0 when there was none). */
  lastReadBytes = 0;

  /** `syncEvery`: a file written in pieces is synced each time this many bytes were written since the last sync (0: only at commit). */
  constructor(private readonly path: string, private readonly io: StoreIo = NODE_STORE_IO, private readonly syncEvery = 0) {}

  async read(): Promise<T | null> {
    let text: string;
    this.lastReadBytes = 0;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    this.lastReadBytes = Buffer.byteLength(text);
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    const file = this.begin();
    try {
      await file.write(JSON.stringify(data));
    } catch (error) {
      await file.abort();
      throw error;
    }
    await file.commit();
  }

  /**
   * The same write in pieces: each `write` appends text to the temp file, so a big document is
   * never one string nor one write; `commit` fsyncs and renames it into place, `abort` removes it.
   */
  begin(): { write(text: string): Promise<void>; commit(): Promise<void>; abort(): Promise<void> } {
    const tmp = `${this.path}.tmp-${process.pid}`;
    const opened = open(tmp, 'w', 0o600);
    opened.catch(() => undefined);
    let closed = false;
    let unsynced = 0;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await (await opened).close();
    };
    return {
      write: async (text) => {
        if (closed) throw new Error('the snapshot file was already closed');
        const bytes = Buffer.from(text);
        await this.io.write('snapshot', await opened, bytes);
        unsynced += bytes.length;
        if (this.syncEvery > 0 && unsynced >= this.syncEvery) {
          // Written back a few MB at a time: a journal fdatasync meanwhile never waits behind the
          // whole snapshot's dirty pages (ext4 data=ordered), only behind the last few MB.
          unsynced = 0;
          await this.io.sync('snapshot', await opened);
        }
      },
      commit: async () => {
        try {
          await this.io.sync('snapshot', await opened);
        } catch (error) {
          // The old snapshot stays in place; do not leave the half-written temp file behind.
          await close().catch(() => undefined);
          await unlink(tmp).catch(() => undefined);
          throw error;
        }
        await close();
        await this.io.rename(tmp, this.path);
        await this.io.syncDir(dirname(this.path));
      },
      abort: async () => {
        await close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
      },
    };
  }
}

const INDEX_EVERY = 256;

export interface LowdbStoreOptions {
  /** Test hook: called with the bytes about to be written; throw (or reject) to simulate a full disk, delay to simulate a slow one. */
  beforeWrite?: (bytes: number) => void | Promise<void>;
  /** The file-system calls (default: node:fs). Tests pass a layer that delays, fails or tears them. */
  io?: StoreIo;
  /** Close the active journal file into a segment at the first snapshot past this size (default 64 MiB). */
  segmentBytes?: number;
  /** At most this many key files beside a snapshot (default 12; 1 rewrites them all into one at every snapshot). */
  maxKeyFiles?: number;
  /** A snapshot's files are synced every this many bytes as they are written (default 4 MiB; 0: once, at the end). */
  snapshotSyncBytes?: number;
}

export class LowdbStore implements Store {
  readonly kind = 'lowdb' as const;
  readonly dir: string;
  private readonly journalPath: string;
  private readonly lockPath: string;
  private readonly db: Low<SnapshotFile | null>;
  private readonly snapshotFile: FsyncJsonFile<SnapshotFile | null>;
  private journal: FileHandle | null = null;
  private size = 0;
  private lastSeq = 0;
  private broken: Error | null = null;
  private locked = false;
  /** Directories made by lock() whose entries in their parents are not yet durable. */
  private createdDirs: string[] = [];
  private readonly io: StoreIo;
  /** Sparse index of the journal: byte offset of every INDEX_EVERY-th event, by seq. */
  private index: Array<{ seq: number; offset: number }> = [];
  private indexComplete = false;
  private readonly segmentsDir: string;
  /** Closed segments, oldest first. */
  private segments: Segment[] = [];
  /** The seq just before the active file's first event. */
  private base = 0;
  /** The append in flight: closing a segment waits for it, and appends wait for a closing. */
  private appending: Promise<void> | null = null;
  private rotating: Promise<void> | null = null;
  /** Per closed segment, built on its first read: the byte offset of every INDEX_EVERY-th line. */
  private readonly segmentIndex = new Map<string, number[]>();
  /** The key files the snapshot on disk names (none when it names none). */
  private keys: KeySegments = KeySegments.empty();
  /** Records the last snapshot's key file took from memory: the estimate of the next one's, for its plan. */
  private lastFresh = 0;
  /** The key file of the snapshot being written (one at a time), once its write began. */
  private keysWriting: Promise<KeyFile> | null = null;

  constructor(dir: string, private readonly options: LowdbStoreOptions = {}) {
    this.dir = dir;
    this.journalPath = join(dir, 'journal.jsonl');
    this.lockPath = join(dir, 'owp.lock');
    this.segmentsDir = join(dir, 'journal-segments');
    this.io = options.io ?? NODE_STORE_IO;
    this.snapshotFile = new FsyncJsonFile<SnapshotFile | null>(join(dir, 'state.json'), this.io, this.syncEvery);
    this.db = new Low<SnapshotFile | null>(this.snapshotFile, null);
  }

  private get syncEvery(): number {
    return this.options.snapshotSyncBytes ?? DEFAULT_SNAPSHOT_SYNC_BYTES;
  }

  get coveredKeys(): CoveredKeys & { readonly reads: number } {
    return this.keys;
  }

  private lock(): void {
    if (this.locked) return;
    const first = mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // A new data directory is durable only once its entry in the parent is: load() syncs each parent.
    for (let d = this.dir; first !== undefined; d = dirname(d)) {
      this.createdDirs.unshift(d);
      if (d === first || dirname(d) === d) break;
    }
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, ...processIdentity(process.pid) }));
        closeSync(fd);
        this.locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = liveLockHolder(readFileSync(this.lockPath, 'utf8'));
        if (holder !== undefined) {
          throw new StoreCorruptError(`Another coordinator (pid ${holder}) is using ${this.dir}. Stop it first, or choose another --data-dir.`);
        }
        unlinkSync(this.lockPath); // left by a process that is gone, or torn by a power failure
      }
    }
  }

  async load(): Promise<Loaded> {
    this.lock();
    for (const d of this.createdDirs) await this.io.syncDir(dirname(d));
    this.createdDirs = [];
    // A batch that failed (a short write, a failed sync) was never acknowledged, but its bytes may be
    // in the file: read only up to what was durable, and cut the rest so a refused change never comes
    // back. If the disk cannot even do that yet, stay broken (no appends) and cut on the next load.
    let durableSize: number | undefined;
    let stillBroken = false;
    if (this.journal && this.broken) {
      durableSize = this.size;
      try {
        await this.journal.truncate(this.size);
        await this.io.sync('journal', this.journal);
      } catch {
        stillBroken = true;
      }
    }
    await this.journal?.close();
    this.journal = null;
    const warnings: string[] = [];
    let snapshot: SnapshotFile | null = null;
    let snapshotProblem: string | null = null;
    const snapshotStart = performance.now();
    try {
      await this.db.read();
      snapshot = this.db.data;
      // Not kept here once handed over: the state restored from it is the copy that lives on.
      this.db.data = null;
      if (snapshot && (snapshot.format !== 'owp-state/1' || typeof snapshot.seq !== 'number')) {
        snapshotProblem = 'state.json is not an OWP state file';
        snapshot = null;
      }
    } catch (error) {
      snapshotProblem = `state.json is unreadable (${(error as Error).message})`;
    }
    await this.keys.close();
    this.keys = KeySegments.empty();
    this.lastFresh = 0;
    // A snapshot written before key files came in segments names one (`key_file`).
    const named = snapshot?.key_files ?? (snapshot?.key_file !== undefined ? [snapshot.key_file] : []);
    const opened: KeyFile[] = [];
    for (const name of named) {
      try {
        if (typeof name !== 'string' || !KEY_FILE_NAME.test(name)) throw new Error('not a key file name');
        opened.push(await KeyFile.open(join(this.dir, name)));
      } catch (error) {
        // Without its keys the snapshot cannot answer a replay: rebuild from the journal, as for an unreadable snapshot.
        snapshotProblem = `the key file ${String(name)} that state.json names is unreadable (${(error as Error).message})`;
        snapshot = null;
        for (const f of opened) await f.close();
        opened.length = 0;
        break;
      }
    }
    this.keys = new KeySegments(opened);
    // Key files no snapshot names: written for a snapshot that never committed, or replaced by a newer one.
    const keep = new Set(snapshot ? named : []);
    for (const name of await readdir(this.dir)) {
      if (KEY_FILE_NAME.test(name) && !keep.has(name)) await unlink(join(this.dir, name)).catch(() => undefined);
    }

    const snapshotMs = Math.round(performance.now() - snapshotStart);
    this.segments = await listSegments(this.segmentsDir);
    const closedLast = this.segments.at(-1)?.last ?? 0;
    let journalExists = true;
    let fileSize = 0;
    try {
      fileSize = (await stat(this.journalPath)).size;
      if (durableSize !== undefined) fileSize = Math.min(fileSize, durableSize);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      journalExists = false;
    }
    if (!journalExists && snapshot && snapshot.seq > closedLast) {
      throw new StoreCorruptError(`${this.journalPath} is missing but state.json is at seq ${snapshot.seq}. Restore the journal from a backup; refusing to start with a gap in the audit journal.`);
    }

    // Start reading where the snapshot ends, so a restart costs the tail, not the whole history;
    // if the journal does not line up with the snapshot there, read it all and let the checks below say why.
    // The snapshot's offset counts in the active file it was taken in; a segment closed since then
    // means the active file is a new one, whose events all come after the snapshot.
    const sameFile = (snapshot?.journal_base ?? 0) === closedLast;
    const end = snapshot && journalExists && sameFile ? await this.snapshotEnd(snapshot, fileSize) : { offset: 0, lastLine: 0 };
    let start = end.offset;
    let text = journalExists ? await readFrom(this.journalPath, start, fileSize) : '';
    let parsed = parseJournal(text, this.journalPath);
    if (start > 0 && snapshot && parsed.events.length > 0 && parsed.events[0]?.seq !== snapshot.seq + 1) {
      start = 0;
      text = await readFrom(this.journalPath, 0, fileSize);
      parsed = parseJournal(text, this.journalPath);
    }
    const { goodBytes, torn } = parsed;
    // Closed segments are read only when the snapshot does not cover them (no snapshot, an unreadable
    // one, or one restored from an older backup): a normal restart never opens them.
    const after0 = snapshotProblem ? 0 : (snapshot?.seq ?? 0);
    const older: StoredEvent[] = [];
    let segmentBytes = 0;
    for (const segment of this.segments) {
      if (segment.last <= after0) continue;
      const segmentText = await readFile(segment.path, 'utf8');
      segmentBytes += Buffer.byteLength(segmentText);
      older.push(...parseJournal(segmentText, segment.path).events);
    }
    const firstActive = parsed.events[0]?.seq;
    if (this.segments.length > 0 && firstActive !== undefined && start === 0 && firstActive !== closedLast + 1) {
      throw new StoreCorruptError(`journal.jsonl starts at seq ${firstActive} but the last closed segment ends at seq ${closedLast}. Restore the journal from a backup.`);
    }
    const events = [...older, ...parsed.events];
    if (torn) {
      warnings.push(`journal.jsonl ended with a torn write (${Buffer.byteLength(text) - goodBytes} bytes never acknowledged); cut it back to the last whole event`);
      await truncate(this.journalPath, start + goodBytes);
    }
    if (snapshotProblem) {
      const first = events[0];
      if (events.length > 0 && first && first.seq !== 1) {
        throw new StoreCorruptError(`${snapshotProblem}, and the journal does not start at seq 1, so the state cannot be rebuilt. Restore state.json from a backup.`);
      }
      warnings.push(`${snapshotProblem}; rebuilt the state by replaying all ${events.length} journal events`);
    }
    const after = snapshot?.seq ?? 0;
    const tail = events.filter((e) => e.seq > after);
    let expected = after + 1;
    for (const e of tail) {
      if (e.seq !== expected) throw new StoreCorruptError(`journal.jsonl has a gap: expected seq ${expected}, found ${e.seq}. Restore it from a backup.`);
      expected += 1;
    }
    // Reading from the snapshot's end, snapshotEnd() has checked that the journal reaches the snapshot's seq.
    const lastJournalSeq = events.at(-1)?.seq ?? (start > 0 ? after : closedLast);
    if (snapshot && lastJournalSeq < snapshot.seq) {
      throw new StoreCorruptError(`state.json is at seq ${snapshot.seq} but journal.jsonl ends at seq ${lastJournalSeq}. Restore the journal from a backup.`);
    }

    this.size = start + goodBytes;
    this.lastSeq = lastJournalSeq;
    this.base = closedLast;
    // Events before `start` are not indexed (readJournal scans them from the file's start), except the
    // snapshot's own last event: recovery reads it for its time, and that must not cost the whole history.
    this.index = start > 0 && snapshot ? [{ seq: snapshot.seq, offset: end.lastLine }] : [];
    // parseJournal noted where every INDEX_EVERY-th event starts: the tail is not split a second time.
    for (const entry of parsed.index) this.index.push({ seq: entry.seq, offset: start + entry.offset });
    this.indexComplete = true;
    this.journal = await open(this.journalPath, 'a', 0o600);
    if (!journalExists) await this.io.syncDir(this.dir);
    if (!stillBroken) this.broken = null;
    const { journal_offset: _offset, key_file: _keys, key_files: _files, ...plain } = snapshot ?? ({} as SnapshotFile);
    return { snapshot: snapshot ? (plain as Snapshot) : null, events: tail, warnings, read: { snapshot_bytes: this.snapshotFile.lastReadBytes, journal_bytes: segmentBytes + Buffer.byteLength(text), snapshot_ms: snapshotMs } };
  }

  /**
   * Where the snapshot ends in the journal, if the journal agrees: the byte at `journal_offset`
   * starts a line and the event just before it has the snapshot's seq. 0 (read everything) otherwise.
   */
  private async snapshotEnd(snapshot: SnapshotFile, fileSize: number): Promise<{ offset: number; lastLine: number }> {
    const none = { offset: 0, lastLine: 0 };
    const offset = snapshot.journal_offset;
    if (!Number.isSafeInteger(offset) || offset <= 0 || offset > fileSize) return none;
    const window = Math.min(offset, 256 * 1024);
    const before = await readFrom(this.journalPath, offset - window, offset);
    if (!before.endsWith('\n')) return none;
    const lines = before.slice(0, -1).split('\n');
    // The window may start mid-line; only the last line matters and it must be whole.
    if (lines.length < 2 && window < offset) return none;
    const lastLine = lines.at(-1) as string;
    try {
      const last = JSON.parse(lastLine) as StoredEvent;
      return last.seq === snapshot.seq ? { offset, lastLine: offset - Buffer.byteLength(lastLine) - 1 } : none;
    } catch {
      return none;
    }
  }

  async append(events: readonly StoredEvent[]): Promise<void> {
    if (this.rotating) await this.rotating;
    const write = this.appendNow(events);
    this.appending = write.catch(() => undefined);
    try {
      await write;
    } finally {
      this.appending = null;
    }
  }

  private async appendNow(events: readonly StoredEvent[]): Promise<void> {
    if (!this.journal) throw new Error('the store is not loaded');
    if (this.broken) throw this.broken;
    if (events.length === 0) return;
    // Each line is encoded straight into one buffer: no text of the whole batch built first (a
    // rope that Buffer.from flattens, a copy, and then encodes, another), no line strings.
    const lines: string[] = new Array(events.length);
    const offsets: number[] = new Array(events.length);
    let bytes = this.size;
    for (let i = 0; i < events.length; i += 1) {
      const json = storedEventJson(events[i] as StoredEvent);
      lines[i] = json;
      offsets[i] = bytes;
      bytes += Buffer.byteLength(json) + 1;
    }
    const data = Buffer.allocUnsafe(bytes - this.size);
    for (let i = 0, at = 0; i < lines.length; i += 1) {
      at += data.write(lines[i] as string, at);
      data[at] = 0x0a;
      at += 1;
    }
    try {
      await this.options.beforeWrite?.(bytes - this.size);
      await this.io.write('journal', this.journal, data);
      await this.io.sync('journal', this.journal);
    } catch (error) {
      // Part of the batch may be on disk; nothing more is written until load() re-reads the file.
      this.broken = error as Error;
      throw error;
    }
    events.forEach((e, i) => {
      if ((this.lastSeq + i) % INDEX_EVERY === 0) this.index.push({ seq: e.seq, offset: offsets[i] as number });
    });
    this.lastSeq = (events.at(-1) as StoredEvent).seq;
    this.size = bytes;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    if (snapshot.seq !== this.lastSeq) throw new Error(`snapshot at seq ${snapshot.seq} but the journal ends at ${this.lastSeq}`);
    // The whole state at once: its idempotency records go to the key file, as the runtime's do,
    // and are all of them (none merged from the previous file, none left out by age).
    const { head, write, commit, abort } = this.beginSnapshot(snapshot.seq, undefined, true);
    try {
      await write(JSON.stringify({ ...snapshot, idempotency: [], ...head }));
      await this.pendingKeys(head.key_files.at(-1) as string, { kept: [], merged: [], dropped: [] }, snapshot.idempotency as KeptIdempotency[], Number.NEGATIVE_INFINITY);
    } catch (error) {
      await abort();
      throw error;
    }
    await commit();
  }

  /**
   * A snapshot at the journal's end, written while appends go on. When the active file has
   * passed `segmentBytes` it is closed into a segment first (appends wait for that, not for the
   * snapshot), so the snapshot ends at the new file's start; if the snapshot then never lands, a
   * restart reads that one segment after the older snapshot.
   */
  beginSnapshot(seq: number, keysCutoff?: number, whole = false): SnapshotSink & { head: { key_files: string[] } } {
    if (!this.journal) throw new Error('the store is not loaded');
    if (seq !== this.lastSeq || this.appending || this.rotating) throw new Error(`a snapshot at seq ${seq} but the journal ends at ${this.lastSeq}${this.appending ? ' with an append under way' : ''}`);
    let rotation: Promise<boolean> | null = null;
    if (this.size > 0 && this.size >= (this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES) && !this.broken) {
      rotation = this.closeSegment(seq);
      rotation.catch(() => undefined);
      this.rotating = rotation.then(() => undefined, () => undefined).finally(() => {
        this.rotating = null;
      });
    }
    // The key files are named up front (the head is written first): the ones kept as they are, then
    // the new one, which holds the records this snapshot covers merged with the files the plan
    // merges (key-segments.ts). A random part keeps a second snapshot at the same seq from writing
    // over a file the current one names. A whole snapshot's records replace every file.
    const cutoff = keysCutoff ?? Number.NEGATIVE_INFINITY;
    const plan: KeyPlan = whole ? { kept: [], merged: [], dropped: [...this.keys.files] } : this.keys.plan(cutoff, this.options.maxKeyFiles ?? DEFAULT_MAX_KEY_FILES, this.lastFresh);
    const keyFile = `keys-${pad12(seq)}-${randomBytes(4).toString('hex')}.bin`;
    const keyFiles = [...plan.kept.map((f) => basename(f.path as string)), keyFile];
    const head = { ...(rotation ? { journal_offset: 0, journal_base: seq } : { journal_offset: this.size, journal_base: this.base }), key_files: keyFiles };
    const file = this.snapshotFile.begin();
    this.keysWriting = null;
    const dropKeys = async (): Promise<void> => {
      const written = await this.keysWriting?.catch(() => null);
      this.keysWriting = null;
      await written?.close();
      await unlink(join(this.dir, keyFile)).catch(() => undefined);
    };
    return {
      head,
      ...(whole ? {} : { keys: { write: (records: readonly KeptIdempotency[], recordsCutoff: number) => this.pendingKeys(keyFile, plan, records, recordsCutoff) } }),
      write: (text) => file.write(text),
      commit: async () => {
        // The key file is durable before the snapshot that names it is (KeyFile.write syncs it).
        // A caller that wrote the whole document (its records inside) and no keys: an empty key file.
        const written = await (this.keysWriting ?? this.pendingKeys(keyFile, plan, [], cutoff).then(() => this.keysWriting));
        this.keysWriting = null;
        try {
          if (rotation && !(await rotation)) throw new Error('the journal segment was not closed; the snapshot would not match the journal');
          if (!written) throw new Error('the snapshot names a key file that was not written');
          await file.commit();
        } catch (error) {
          // The file stays: state.json may have been renamed into place before the failure. If it was
          // not, the next load removes the file as one no snapshot names.
          await written?.close();
          throw error;
        }
        const next = new KeySegments([...plan.kept, written]);
        const previous = this.keys;
        this.keys = next;
        // The files merged into the new one, or dropped as expired, go once the snapshot naming the rest is in place.
        for (const old of previous.files) {
          if (next.files.includes(old)) continue;
          await old.close();
          if (old.path !== null) await unlink(old.path).catch(() => undefined);
        }
      },
      abort: async () => {
        await file.abort();
        await dropKeys();
      },
    };
  }

  /**
   * Writes the new key file of the snapshot being written: `records` merged with the files the
   * plan merges (key-segments.ts); left in `keysWriting` for the commit.
   */
  private async pendingKeys(name: string, plan: KeyPlan, records: readonly KeptIdempotency[], cutoff: number): Promise<void> {
    const writing = KeySegments.writeMerged(join(this.dir, name), this.io, plan.merged, records, cutoff, this.syncEvery);
    this.keysWriting = writing;
    this.lastFresh = records.length;
    await writing;
  }

  /**
   * Renames the active file to a closed segment and starts an empty one. A crash after the rename
   * leaves no journal.jsonl: load() then starts an empty one after the last segment. A failure here
   * stops appends until load() re-reads the files, as a failed write does.
   */
  private async closeSegment(snapshotSeq: number): Promise<boolean> {
    if (this.appending) await this.appending;
    // An append that was already under way went past the snapshot: close at a later snapshot instead.
    if (!this.journal || this.broken || this.size === 0 || this.lastSeq !== snapshotSeq) return false;
    const segment: Segment = { path: join(this.segmentsDir, `${pad12(this.base + 1)}-${pad12(this.lastSeq)}.jsonl`), first: this.base + 1, last: this.lastSeq };
    try {
      const made = mkdirSync(this.segmentsDir, { recursive: true, mode: 0o700 });
      if (made !== undefined) await this.io.syncDir(this.dir);
      await this.journal.close();
      this.journal = null;
      await this.io.rename(this.journalPath, segment.path);
      await this.io.syncDir(this.segmentsDir);
      await this.io.syncDir(this.dir);
      this.journal = await open(this.journalPath, 'a', 0o600);
      await this.io.syncDir(this.dir);
    } catch (error) {
      this.broken = error as Error;
      throw error;
    }
    this.segments.push(segment);
    this.base = this.lastSeq;
    this.size = 0;
    this.index = [];
    return true;
  }

  async readJournal(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    if (!this.journal || limit <= 0 || afterSeq >= this.lastSeq) return [];
    const out: StoredEvent[] = [];
    // History in closed segments first, from the indexed line nearest below the first event wanted.
    for (const segment of this.segments) {
      if (segment.last <= afterSeq || out.length >= limit) continue;
      // A segment's last event alone (what recovery asks for) is read from the file's end.
      if (afterSeq + 1 === segment.last) {
        out.push(await lastEvent(segment.path));
        continue;
      }
      let offsets = this.segmentIndex.get(segment.path);
      if (!offsets) {
        offsets = await lineOffsets(segment.path, INDEX_EVERY);
        this.segmentIndex.set(segment.path, offsets);
      }
      const line = Math.max(0, afterSeq + 1 - segment.first);
      const start = offsets[Math.min(offsets.length - 1, Math.floor(line / INDEX_EVERY))] ?? 0;
      await scanLines(segment.path, start, Number.POSITIVE_INFINITY, (e) => {
        if (e.seq > afterSeq) out.push(e);
        return out.length < limit;
      });
    }
    if (out.length >= limit) return out;
    return [...out, ...(await this.readActive(Math.max(afterSeq, this.base), limit - out.length))];
  }

  private async readActive(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    let start = 0;
    for (const entry of this.index) {
      if (entry.seq <= afterSeq + 1) start = entry.offset;
      else break;
    }
    if (!this.indexComplete) start = 0;
    const out: StoredEvent[] = [];
    const handle = await open(this.journalPath, 'r');
    try {
      const chunk = Buffer.alloc(256 * 1024);
      let position = start;
      let carry = '';
      while (position < this.size && out.length < limit) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, this.size - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const lines = (carry + chunk.toString('utf8', 0, bytesRead)).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          const e = JSON.parse(line) as StoredEvent;
          if (e.seq > afterSeq) out.push(e);
          if (out.length >= limit) break;
        }
      }
    } finally {
      await handle.close();
    }
    return out;
  }

  /** The closed segments, oldest first (for reports and tests). */
  closedSegments(): readonly Segment[] {
    return this.segments;
  }

  async probe(): Promise<void> {
    const path = join(this.dir, `.probe-${process.pid}`);
    const handle = await open(path, 'w');
    try {
      await this.options.beforeWrite?.(5);
      await this.io.write('probe', handle, Buffer.from('probe'));
      await this.io.sync('probe', handle);
    } finally {
      await handle.close();
      await unlink(path).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = null;
    await this.keys.close();
    this.keys = KeySegments.empty();
    if (this.locked) {
      try {
        unlinkSync(this.lockPath);
      } catch {
        // already gone
      }
      this.locked = false;
    }
  }

  /** Size of the journal file in bytes (for benchmarks and reports). */
  async journalBytes(): Promise<number> {
    try {
      return (await stat(this.journalPath)).size;
    } catch {
      return 0;
    }
  }
}

/**
 * Parses journal text. A bad last line is a torn write (never acknowledged); a bad line before it is
 * corruption. `index` has the byte offset (in `text`) of every INDEX_EVERY-th event, for the store's sparse index.
 */
function parseJournal(text: string, path: string): { events: StoredEvent[]; goodBytes: number; torn: boolean; index: Array<{ seq: number; offset: number }> } {
  const events: StoredEvent[] = [];
  const index: Array<{ seq: number; offset: number }> = [];
  if (text.length === 0) return { events, goodBytes: 0, torn: false, index };
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  const complete = endsWithNewline ? lines.slice(0, -1) : lines.slice(0, -1);
  const partial = endsWithNewline ? null : (lines.at(-1) ?? null);
  let goodBytes = 0;
  for (let i = 0; i < complete.length; i += 1) {
    const line = complete[i] as string;
    let event: StoredEvent | null = null;
    try {
      event = JSON.parse(line) as StoredEvent;
    } catch {
      event = null;
    }
    if (!event || typeof event.seq !== 'number' || typeof event.type !== 'string') {
      const isLast = i === complete.length - 1 && partial === null;
      if (isLast) return { events, goodBytes, torn: true, index };
      throw new StoreCorruptError(`${path} line ${i + 1} is not a journal event. The journal is damaged; restore it from a backup (the coordinator will not start over damaged data).`);
    }
    if (events.length % INDEX_EVERY === 0) index.push({ seq: event.seq, offset: goodBytes });
    events.push(event);
    goodBytes += Buffer.byteLength(line) + 1;
  }
  return { events, goodBytes, torn: partial !== null && partial.length > 0, index };
}

/**
 * Who holds a lock file, if that process is still the one that wrote it. The file names the pid
 * with the boot and the process's start time: after a power failure or a reboot, or once the pid
 * belongs to another process, the lock is stale. A file that does not parse (torn by a power
 * failure) is stale too; a bare pid (older coordinators) is held while that pid is alive.
 */
function liveLockHolder(text: string): number | undefined {
  let lock: { pid?: unknown; boot?: unknown; start?: unknown };
  try {
    const parsed: unknown = JSON.parse(text);
    lock = typeof parsed === 'number' ? { pid: parsed } : (parsed as typeof lock);
  } catch {
    return undefined;
  }
  const pid = lock?.pid;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined;
  const now = processIdentity(pid);
  if (lock.boot !== undefined && now.boot !== undefined && lock.boot !== now.boot) return undefined;
  if (lock.start !== undefined && now.start !== undefined && lock.start !== now.start) return undefined;
  return pid;
}

/** This boot and a process's start time, where the system says (Linux /proc); empty elsewhere. */
function processIdentity(pid: number): { boot?: string; start?: string } {
  const out: { boot?: string; start?: string } = {};
  try {
    out.boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts from field 3, right after the ")" that ends the command name.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start) out.start = start;
  } catch {
    // not Linux, or the process is gone
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
