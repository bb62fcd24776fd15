/** `owp demo` (also `npm run demo`): the five-minute demo in one command, on a fresh machine. */
import { parse, UsageError, intFlag } from '../args.ts';
import { Output } from '../output.ts';
import { runDemo } from '../demo/run-demo.ts';

export const USAGE = `Usage: owp demo [--speed 1|fast|N] [--port N] [--data-dir DIR] [--keep] [--stay] [--no-auto-kill] [--json]

Runs OWP end to end on this machine: a coordinator (embedded lowdb store in a temp folder) with a
seeded repo backed by a real git repository, three simulated volunteers who take offers and push
real branches, a maintainer merging PRs, an area lock and the review budget holding work back, and
one volunteer killed mid-task so its lease expires and another volunteer picks the task up. Ends
with a summary read from the journal. Nothing is left behind unless you pass --keep.

  --speed S        1 (default, about five minutes), fast (about a minute), or a factor like 3
  --port N         coordinator port (default 0: a free one; the dashboard URL is printed)
  --data-dir DIR   use DIR (wiped first if an earlier demo made it) instead of a temp folder
  --keep           keep the data dir: journal.jsonl, state.json and the git repos
  --stay           keep the coordinator and dashboard up after the summary until Ctrl-C
  --no-auto-kill   do not kill a volunteer on cue; press k to do it yourself
  --json           one JSON event per line (narration, beats, summary)
Keys while it runs: k kill a volunteer now · q stop and summarise.`;

export function parseSpeed(value: string | undefined): number {
  if (value === undefined || value === 'normal') return 1;
  if (value === 'fast') return 6;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.25 || n > 50) throw new UsageError(`--speed must be "fast" or a factor between 0.25 and 50, got "${value}".`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    speed: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean' },
    stay: { type: 'boolean' },
    'no-auto-kill': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const out = new Output({ json: Boolean(values.json) });
  const speed = parseSpeed(values.speed);
  out.block(out.colors.bold(`OWP demo${speed !== 1 ? ` at ${speed}× speed` : ''}: volunteers' AI seats as a capacity-aware PR pipeline that never floods maintainers`));
  const result = await runDemo({
    speed,
    port: intFlag(values.port, 'port', 0),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    keep: Boolean(values.keep),
    stay: Boolean(values.stay),
    autoKill: !values['no-auto-kill'],
    out,
    ...(process.stdin.isTTY ? { input: process.stdin } : {}),
  });
  out.done();
  return result.timedOut ? 1 : 0;
}
