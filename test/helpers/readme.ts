/** Reads the documented examples out of README.md, so tests keep them valid. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The first ```yaml block after a README heading. */
export function readmeExample(heading: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const at = readme.indexOf(heading);
  assert.ok(at >= 0, `README has no heading ${heading}`);
  const match = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(match, `README has no yaml block after ${heading}`);
  return match[1] as string;
}
