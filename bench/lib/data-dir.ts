/** What a lowdb data directory holds, for the restart figures: the journal (active file and closed segments) and the snapshot. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What a data directory holds: the active journal file, the closed segments, the snapshot and its key file. */
export function dataDirSizes(dir: string): Record<string, number> {
  const size = (path: string): number => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  let segments: string[] = [];
  try {
    segments = readdirSync(join(dir, 'journal-segments'));
  } catch {
    segments = [];
  }
  const segmentBytes = segments.reduce((n, f) => n + size(join(dir, 'journal-segments', f)), 0);
  const active = size(join(dir, 'journal.jsonl'));
  const snapshot = size(join(dir, 'state.json'));
  let snapshotSeq = 0;
  let keyFile = 0;
  try {
    const head = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { seq: number; key_file?: string; key_files?: string[] };
    snapshotSeq = head.seq;
    // The idempotency records the snapshot covers (coordinator/store/key-segments.ts): a start reads only their indexes.
    for (const name of head.key_files ?? (head.key_file !== undefined ? [head.key_file] : [])) keyFile += size(join(dir, name));
  } catch {
    snapshotSeq = 0;
  }
  return {
    journal_mb: (active + segmentBytes) / 1e6,
    active_journal_mb: active / 1e6,
    closed_segments: segments.length,
    closed_segments_mb: segmentBytes / 1e6,
    snapshot_mb: snapshot / 1e6,
    snapshot_seq: snapshotSeq,
    key_file_mb: keyFile / 1e6,
  };
}
