/**
 * The key files of one snapshot (lowdb), oldest first: each snapshot writes the records it covers
 * as a new file and merges older files only when their sizes match, instead of rewriting one file
 * that holds 24 h of keys at every snapshot. The rewrite was most of a snapshot's cost under steady
 * load (bench/README.md, "Key files in segments"): a copy of the whole file, growing all day, every
 * 20,000 events. Merged when sizes match (like a binary counter: a file is merged with the younger
 * ones once they hold as many records as it does), each record is rewritten about log2(files)
 * times over its 24 h, and a look-up searches at most `maxFiles` indexes, all in memory.
 *
 * Which record wins: the newest file that holds a key (a key read back into memory and covered
 * again is in a younger file too; both are the same record). Expiry: a look-up checks each
 * record's time (`KeyFile.mayHold`), so a key older than the cutoff is never revived; a merge leaves
 * expired records out, a file whose records all expired is dropped without a write, and one whose
 * records are half expired is merged (with the younger ones) at the next snapshot.
 */
import type { KeptIdempotency } from '../state/idempotency-keys.ts';
import type { CoveredKeys } from './store.ts';
import { KeyFile, keyHash } from './key-file.ts';
import type { StoreIo } from './lowdb.ts';

/** Files a snapshot's keys may be spread over, at most (a look-up binary-searches each index). */
export const DEFAULT_MAX_KEY_FILES = 12;

/** What one snapshot does with the key files: which stay, which are merged with its fresh records, which are dropped. */
export interface KeyPlan {
  /** Files kept as they are, oldest first; the new file comes after them. */
  kept: KeyFile[];
  /** Files merged into the new one, oldest first (the first is copied in runs, the others read). */
  merged: KeyFile[];
  /** Files whose every record expired: left out, never read. */
  dropped: KeyFile[];
}

export class KeySegments implements CoveredKeys {
  constructor(readonly files: readonly KeyFile[]) {}

  static empty(): KeySegments {
    return new KeySegments([]);
  }

  /** Look-ups that went to the disk so far, over every file. */
  get reads(): number {
    return this.files.reduce((n, f) => n + f.reads, 0);
  }

  get size(): number {
    return this.files.reduce((n, f) => n + f.size, 0);
  }

  mayHold(scope: string, key: string, notBefore: number): boolean {
    if (this.files.length === 0) return false;
    // Hashed once for all the files (up to 12), not once per file: this runs for every new key.
    const [hi, lo] = keyHash(scope, key);
    for (let i = this.files.length - 1; i >= 0; i -= 1) if ((this.files[i] as KeyFile).mayHoldHash(hi, lo, notBefore)) return true;
    return false;
  }

  /** The newest file's record of the key: the files are searched youngest first. */
  async find(scope: string, key: string, notBefore: number): Promise<KeptIdempotency | undefined> {
    for (let i = this.files.length - 1; i >= 0; i -= 1) {
      const file = this.files[i] as KeyFile;
      if (!file.mayHold(scope, key, notBefore)) continue;
      const found = await file.find(scope, key, notBefore);
      if (found) return found;
    }
    return undefined;
  }

  async close(): Promise<void> {
    for (const f of this.files) await f.close();
  }

  /**
   * Which files the next snapshot merges, given records younger than `cutoff` only count:
   * files all expired are dropped; the youngest files are merged while the older one holds no
   * more records than the younger ones together with `freshEstimate` (the fresh count is not known
   * yet when the snapshot names its files: the last snapshot's count stands for it); a file at
   * least half expired is merged with all younger ones; and at most `maxFiles` remain.
   */
  plan(cutoff: number, maxFiles: number, freshEstimate: number): KeyPlan {
    const live: KeyFile[] = [];
    const dropped: KeyFile[] = [];
    for (const f of this.files) (f.newestAt() <= cutoff ? dropped : live).push(f);
    let k = live.length;
    let younger = freshEstimate;
    const halfExpired = live.findIndex((f) => 2 * f.expiredBy(cutoff) >= f.size);
    while (k > 0 && ((live[k - 1] as KeyFile).size <= younger || (halfExpired >= 0 && k > halfExpired) || k + 1 > maxFiles)) {
      k -= 1;
      younger += (live[k] as KeyFile).size;
    }
    return { kept: live.slice(0, k), merged: live.slice(k), dropped };
  }

  /**
   * Writes the new file: `records` (memory's, the newest) merged with the plan's merged files, all
   * copied as bytes in runs (KeyFile.write), one record per key, the newest winning.
   */
  static async writeMerged(path: string, io: StoreIo, merged: readonly KeyFile[], records: readonly KeptIdempotency[], cutoff: number, syncEvery = 0): Promise<KeyFile> {
    return KeyFile.write(path, io, merged[0] ?? KeyFile.empty(), records, cutoff, merged.slice(1), syncEvery);
  }
}
