/**
 * The five-minute demo, told in beats (beats.ts): a coordinator on the embedded store with a
 * seeded repo backed by a real git repository; three simulated volunteers who take offers and
 * push real branches; a maintainer who merges PRs over time; an area lock and the review budget
 * holding work back; one volunteer killed mid-task, whose lease expires and whose task goes to
 * someone else; and a closing summary read from the journal. All timings divide by `speed`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dashboardUrl } from '../commands/coordinator.ts';
import { BEATS } from './beats.ts';
import type { JournalStory } from './journal-story.ts';
import { DemoScene, type DemoOptions } from './scene.ts';

export interface DemoResult {
  story: JournalStory;
  dataDir: string;
  journalFile: string;
  killed: string | undefined;
  timedOut: boolean;
}

const MARKER = '.owp-demo';

async function prepareDataDir(given: string | undefined): Promise<string> {
  if (!given) return mkdtemp(join(tmpdir(), 'owp-demo-'));
  const dir = resolve(given);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MARKER))) {
    throw new Error(`${dir} is not empty and was not made by owp demo; pick an empty or new folder for --data-dir.`);
  }
  // Re-runnable from scratch: a previous demo's folder is wiped.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dataDir = await prepareDataDir(options.dataDir);
  await writeFile(join(dataDir, MARKER), 'made by owp demo; safe to delete\n');
  const scene = new DemoScene(options, dataDir);
  try {
    for (const [index, beat] of BEATS.entries()) {
      if (beat.happens && !beat.happens(scene)) continue;
      scene.announce(index + 1, beat.title);
      await beat.run(scene);
    }
  } finally {
    scene.stopListening();
  }

  const { started, github } = scene.stage;
  for (const w of scene.workers) if (w.alive) w.stop();
  if (options.stay) {
    options.out.block(`\n  Dashboard still up at ${scene.c.underline(dashboardUrl(started.url, started.adminToken))}. Press Ctrl-C to stop.`);
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
  }
  await github.close();
  await started.coordinator.close();
  if (!options.keep) await rm(dataDir, { recursive: true, force: true });
  const journalFile = join(dataDir, 'coordinator', 'journal.jsonl');
  return { story: scene.story!, dataDir, journalFile, killed: scene.killed?.spec.login, timedOut: scene.timedOut };
}
