/** A temporary folder holding the given files (path → text), e.g. a repo checkout with .owp.yml. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './coordinator.ts';

export function folderWith(files: Record<string, string>, prefix = 'owp-files-'): string {
  const dir = tempDir(prefix);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
