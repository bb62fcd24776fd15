import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The `owp` sources, demo scenes left out (they narrate; they write no `--json` events). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'demo' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The README's `--json` events section: from its heading to the next bold paragraph heading. */
function eventsSection(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('**`--json` events.**');
  assert.ok(start >= 0, 'README.md has no "`--json` events" section');
  const end = readme.indexOf('\n**', start + 10);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('every event the CLI writes under --json is listed in the README with its name', () => {
  const names = new Set<string>();
  for (const file of sources('cli')) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bout\.event\(\s*'([a-z.]+)'/g)) names.add(m[1] as string);
  }
  // The scan must find the events the worker is known to write, or it proves nothing.
  for (const known of ['offer', 'accepted', 'granted', 'task.done', 'gate.finished']) assert.ok(names.has(known), `the scan missed ${known}`);
  const section = eventsSection();
  const missing = [...names].filter((name) => !section.includes(`\`${name}\``));
  assert.deepEqual(missing, [], `README.md "--json events" does not list: ${missing.join(', ')}`);
});
