/**
 * A store I/O layer for tests (LowdbStore's `io` option) that does the real file-system calls but
 * can hold a sync until released, fail syncs, writes or renames, and tear a write (write part of
 * it, then fail), and logs every call in order so a test can see what happened before an answer.
 */
import type { FileHandle } from 'node:fs/promises';
import { NODE_STORE_IO, type StoreFile, type StoreIo } from '../../coordinator/store/lowdb.ts';

export interface IoLogEntry {
  op: 'write' | 'sync' | 'sync-done' | 'sync-dir' | 'rename' | 'mark';
  file?: StoreFile;
  /** For writes: the text written (or the part written, when torn). For marks: the label. */
  text?: string;
}

export function ioError(code: 'EIO' | 'ENOSPC', call: string): Error {
  return Object.assign(new Error(`${code}: ${code === 'EIO' ? 'i/o error' : 'no space left on device'}, ${call}`), { code });
}

export class FaultyIo implements StoreIo {
  readonly log: IoLogEntry[] = [];
  /** Syncs of these files wait until release(). */
  readonly hold = new Set<StoreFile>();
  /** Syncs of these files fail with the error (until deleted). */
  readonly failSync = new Map<StoreFile, Error>();
  /** Writes of these files fail with the error after writing `keepBytes` of the data (0: nothing written). */
  readonly failWrite = new Map<StoreFile, { error: Error; keepBytes: number }>();
  failRename: Error | null = null;
  syncsWithheld = 0;
  syncsFailed = 0;
  writesTorn = 0;
  private held: Array<() => void> = [];
  private heldWaiters: Array<() => void> = [];

  async write(file: StoreFile, handle: FileHandle, data: Buffer): Promise<void> {
    const fault = this.failWrite.get(file);
    if (fault) {
      const part = data.subarray(0, Math.min(fault.keepBytes, data.length));
      if (part.length > 0) {
        await NODE_STORE_IO.write(file, handle, part);
        this.writesTorn += 1;
      }
      this.log.push({ op: 'write', file, text: part.toString('utf8') });
      throw fault.error;
    }
    await NODE_STORE_IO.write(file, handle, data);
    this.log.push({ op: 'write', file, text: data.toString('utf8') });
  }

  async sync(file: StoreFile, handle: FileHandle): Promise<void> {
    this.log.push({ op: 'sync', file });
    if (this.hold.has(file)) {
      this.syncsWithheld += 1;
      const released = new Promise<void>((resolve) => this.held.push(resolve));
      for (const w of this.heldWaiters.splice(0)) w();
      await released;
    }
    const error = this.failSync.get(file);
    if (error) {
      this.syncsFailed += 1;
      throw error;
    }
    await NODE_STORE_IO.sync(file, handle);
    this.log.push({ op: 'sync-done', file });
  }

  async syncDir(dir: string): Promise<void> {
    this.log.push({ op: 'sync-dir' });
    await NODE_STORE_IO.syncDir(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.failRename) throw this.failRename;
    this.log.push({ op: 'rename' });
    await NODE_STORE_IO.rename(from, to);
  }

  /** Resolves once a sync is being held. */
  syncHeld(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  /** Lets the syncs held now go on, and keeps holding the next ones (a group commit after another). */
  releaseHeld(): void {
    for (const r of this.held.splice(0)) r();
  }

  /** Lets every held sync go on (and stops holding new ones). */
  release(): void {
    this.hold.clear();
    for (const r of this.held.splice(0)) r();
  }

  /** Records a point in the sequence (an answer arriving), to compare with the calls around it. */
  mark(label: string): void {
    this.log.push({ op: 'mark', text: label });
  }

  /** Index of the first entry matching, from `from` on; -1 when none. */
  find(predicate: (e: IoLogEntry) => boolean, from = 0): number {
    for (let i = from; i < this.log.length; i += 1) if (predicate(this.log[i] as IoLogEntry)) return i;
    return -1;
  }
}
