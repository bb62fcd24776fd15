/**
 * Sums a sampling heap profile (bench/memory.ts --heap-profile) by allocation site: the bytes
 * allocated at each function (self) and, with --stack, at each call path of up to N frames, so the
 * profile of the connect ramp with the objects collected by major GCs kept ("major") can be set
 * against one that keeps only what is live at its end ("live"): the difference is promoted garbage.
 *
 *   node --import tsx bench/heap-profile-sum.ts A.heapprofile [B.heapprofile] [--top 40] [--stack 3]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Frame { functionName: string; url: string; lineNumber: number }
interface Node { callFrame: Frame; selfSize: number; children: Node[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, stack: { type: 'string', default: '1' } } });
const TOP = Number(values.top);
const DEPTH = Number(values.stack);

const where = (f: Frame): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/(coordinator|bench|protocol)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;

function sum(file: string): Map<string, number> {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };
  const bySite = new Map<string, number>();
  const walk = (node: Node, path: Frame[]): void => {
    const here = [...path, node.callFrame];
    if (node.selfSize > 0) {
      const key = here.slice(-DEPTH).reverse().map(where).join(' < ');
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(head, []);
  return bySite;
}

const [a, b] = positionals.map(sum);
if (!a) throw new Error('give one or two .heapprofile files');
const total = (m: Map<string, number>): number => [...m.values()].reduce((x, y) => x + y, 0);
const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
console.log(`total ${mb(total(a))} MB${b ? ` vs ${mb(total(b))} MB` : ''}`);
const keys = new Set([...a.keys(), ...(b?.keys() ?? [])]);
const rows = [...keys].map((k) => ({ k, x: a.get(k) ?? 0, y: b?.get(k) ?? 0 })).sort((p, q) => q.x - q.y - (p.x - p.y));
for (const r of rows.slice(0, TOP)) console.log(`${mb(r.x).padStart(7)}${b ? ` ${mb(r.y).padStart(7)} ${mb(r.x - r.y).padStart(7)}` : ''}  ${r.k}`);
