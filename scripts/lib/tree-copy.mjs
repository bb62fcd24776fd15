// Copies of the working tree with deliberate defects patched in, shared by `npm run test:defects`
// (broken variants of the guarantees) and `npm run test:mutants` (broken variants the conformance
// kit must catch). A defect is a list of exact find/replace edits; each find must match exactly
// once, so a refactor that moves the code makes the runner say so instead of passing quietly.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

/** Tracked and untracked (not ignored) files: the working tree as it is, uncommitted changes included. */
export function worktreeFiles(root = ROOT) {
  const out = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`git ls-files failed: ${out.stderr}`);
  return out.stdout.split('\0').filter(Boolean);
}

/** Copies the working tree to dest; node_modules and .cache are linked, not copied. */
export function copyTree(dest, root = ROOT) {
  for (const file of worktreeFiles(root)) {
    try {
      mkdirSync(dirname(join(dest, file)), { recursive: true });
      copyFileSync(join(root, file), join(dest, file));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error; // deleted but not yet staged
    }
  }
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'));
  symlinkSync(join(root, '.cache'), join(dest, '.cache'));
}

/** Why an edit cannot be applied to this text (its find string matches other than once), or null. */
export function editProblem(text, edit, catalogue) {
  const count = text.split(edit.find).length - 1;
  return count === 1 ? null : `${edit.file}: the code to break was found ${count} times (expected once); update ${catalogue}`;
}

/** Applies a defect's edits in dest; returns a problem (a find string that no longer matches once) or null. */
export function applyEdits(dest, edits, catalogue) {
  for (const edit of edits) {
    const path = join(dest, edit.file);
    const text = readFileSync(path, 'utf8');
    const problem = editProblem(text, edit, catalogue);
    if (problem) return problem;
    writeFileSync(path, text.replace(edit.find, () => edit.replace));
  }
  return null;
}

/** Checks every edit against the working tree as it is, without copying anything. */
export function staleEdits(defects, catalogue, root = ROOT) {
  const problems = [];
  for (const defect of defects) {
    for (const edit of defect.edits) {
      let text;
      try {
        text = readFileSync(join(root, edit.file), 'utf8');
      } catch {
        problems.push(`${defect.name}: ${edit.file} does not exist; update ${catalogue}`);
        continue;
      }
      const problem = editProblem(text, edit, catalogue);
      if (problem) problems.push(`${defect.name}: ${problem}`);
    }
  }
  return problems;
}

/**
 * One copy of the working tree as it is now (made once), and a fresh copy of it per defect.
 * `close()` removes the base copy.
 */
export function baseCopy(prefix) {
  const base = mkdtempSync(join(tmpdir(), `${prefix}-base-`));
  copyTree(base);
  return {
    base,
    /** A fresh copy of the base with the defect's edits applied: { dir, problem }. Remove dir when done. */
    variant(name, edits, catalogue) {
      const dir = mkdtempSync(join(tmpdir(), `${prefix}-${name}-`));
      cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
      return { dir, problem: applyEdits(dir, edits, catalogue) };
    },
    close() {
      rmSync(base, { recursive: true, force: true });
    },
  };
}
