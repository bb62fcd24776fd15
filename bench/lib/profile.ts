/** Summarizes a V8 .cpuprofile (written by node --cpu-prof): the functions with the most self time. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  function: string;
  where: string;
  self_ms: number;
  self_pct: number;
}

export function hotSpots(path: string, top = 15): { total_ms: number; spots: HotSpot[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, { us: number; node: ProfileNode }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    total += dt;
    const frame = node.callFrame;
    const key = `${frame.functionName || '(anonymous)'}|${frame.url}|${frame.lineNumber}`;
    const entry = selfUs.get(key) ?? { us: 0, node };
    entry.us += dt;
    selfUs.set(key, entry);
  });
  const spots = [...selfUs.values()]
    .filter((e) => !['(idle)', '(program)'].includes(e.node.callFrame.functionName))
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      function: e.node.callFrame.functionName || '(anonymous)',
      where: `${e.node.callFrame.url.replace(/^.*\/(node_modules|\.cache)\//, '$1/')}:${e.node.callFrame.lineNumber + 1}`,
      self_ms: Math.round(e.us / 1000),
      self_pct: Math.round((e.us / Math.max(1, total)) * 1000) / 10,
    }));
  return { total_ms: Math.round(total / 1000), spots };
}
