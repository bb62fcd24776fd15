/**
 * The lowdb store's journal files on disk: reading a range of a file, scanning its events, the last
 * event of a closed segment, and the closed segments (`journal-segments/<first>-<last>.jsonl`, seqs
 * padded to 12 digits) with the check that they follow each other without a gap.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredEvent } from '../state/stored-event.ts';
import { StoreCorruptError } from './store.ts';

/** A closed journal segment: its file and the seqs it holds. */
export interface Segment {
  path: string;
  first: number;
  last: number;
}

const SEGMENT_NAME = /^(\d{12})-(\d{12})\.jsonl$/;

export function pad12(n: number): string {
  return String(n).padStart(12, '0');
}

/** The closed segments in a folder, oldest first; none when it does not exist. */
export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const segments = names.flatMap((name) => {
    const m = SEGMENT_NAME.exec(name);
    return m ? [{ path: join(dir, name), first: Number(m[1]), last: Number(m[2]) }] : [];
  }).sort((a, b) => a.first - b.first);
  segments.forEach((s, i) => {
    const prev = segments[i - 1];
    if (s.last < s.first || (prev ? s.first !== prev.last + 1 : s.first !== 1)) {
      throw new StoreCorruptError(`The closed journal segments in ${dir} have a gap or an overlap at ${s.path}. Restore them from a backup.`);
    }
  });
  return segments;
}

/** The last event of a closed segment, read from the end of the file. */
export async function lastEvent(path: string): Promise<StoredEvent> {
  const size = (await stat(path)).size;
  for (let window = 64 * 1024; ; window *= 4) {
    const text = await readFrom(path, Math.max(0, size - window), size);
    const lines = text.slice(0, -1).split('\n');
    if (lines.length >= 2 || window >= size) return JSON.parse(lines.at(-1) as string) as StoredEvent;
  }
}

/**
 * Byte offsets of every `every`-th line of a file (line 0, every, 2·every …), found by counting
 * newlines without parsing: in a closed segment line k holds seq first + k, so this is its index.
 */
export async function lineOffsets(path: string, every: number): Promise<number[]> {
  const offsets = [0];
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    let position = 0;
    let line = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      for (let i = chunk.indexOf(10); i !== -1 && i < bytesRead; i = chunk.indexOf(10, i + 1)) {
        line += 1;
        if (line % every === 0) offsets.push(position + i + 1);
      }
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return offsets;
}

/** Calls `take` with each event of a JSON-lines file from `start` until `end` or until it answers false. */
export async function scanLines(path: string, start: number, end: number, take: (e: StoredEvent) => boolean): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(256 * 1024);
    let position = start;
    let carry = '';
    while (position < end) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, end - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const lines = (carry + chunk.toString('utf8', 0, bytesRead)).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        if (line && !take(JSON.parse(line) as StoredEvent)) return;
      }
    }
  } finally {
    await handle.close();
  }
}

/** The file's bytes from `start` to `end` as text. */
export async function readFrom(path: string, start: number, end: number): Promise<string> {
  if (end <= start) return '';
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.toString('utf8', 0, read);
  } finally {
    await handle.close();
  }
}

