/**
 * What each connected worker costs, by kind of object: two heap snapshots of the coordinator
 * (bench/memory.ts --snapshot-dir, at two numbers of workers) are summed by node type and name
 * (an object's constructor, a closure's function name), and the difference is divided by the
 * difference in workers. Self sizes, not retained sizes: every byte is counted once, under the
 * object that holds it.
 *
 *   node --import tsx bench/heap-diff.ts A.heapsnapshot B.heapsnapshot --workers-a 1000 --workers-b 10000 [--top 40]
 *
 * A snapshot of 10,000 workers is several hundred MB of JSON, more than one string may hold, so
 * the `nodes` array is read as a stream of numbers instead of through JSON.parse.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'workers-a': { type: 'string' }, 'workers-b': { type: 'string' }, top: { type: 'string', default: '40' }, detail: { type: 'boolean', default: false } } });
const [fileA, fileB] = positionals;
if (!fileA || !fileB || !values['workers-a'] || !values['workers-b']) throw new Error('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot --workers-a N --workers-b M');
const perWorker = Number(values['workers-b']) - Number(values['workers-a']);

interface Totals {
  bytes: Map<string, number>;
  counts: Map<string, number>;
}

/** Sums self size and count by "type:name" (names only for objects and closures; other types by type). */
function summarise(file: string): Totals {
  const buf = readFileSync(file);
  const metaEnd = buf.indexOf('"nodes":[');
  const meta = JSON.parse(`${buf.subarray(0, metaEnd).toString('utf8').replace(/,\s*$/, '')}}`) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } } };
  const fields = meta.snapshot.meta.node_fields;
  const types = meta.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const nodes: number[] = [];
  let i = metaEnd + '"nodes":['.length;
  let n = 0;
  let inNumber = false;
  for (; ; i += 1) {
    const c = buf[i] as number;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) nodes.push(n);
      n = 0;
      inNumber = false;
      if (c === 93) break; // ']'
    }
  }
  const stringsAt = buf.indexOf('"strings":[', i);
  const stringsEnd = buf.lastIndexOf(']');
  const strings = JSON.parse(buf.subarray(stringsAt + '"strings":'.length, stringsEnd + 1).toString('utf8')) as string[];
  const bytes = new Map<string, number>();
  const counts = new Map<string, number>();
  for (let k = 0; k < nodes.length; k += width) {
    const type = types[nodes[k + typeAt] as number] as string;
    // --detail also names internal kinds (a hidden class, a context) and shows strings by their first characters.
    const named = values.detail || type === 'object' || type === 'closure' || type === 'native';
    const name = strings[nodes[k + nameAt] as number] ?? '?';
    const key = named ? `${type}:${(type === 'string' || type === 'concatenated string' ? name.replace(/[0-9a-f]{6,}/g, '#').slice(0, 16) : name.slice(0, 60))}` : type;
    bytes.set(key, (bytes.get(key) ?? 0) + (nodes[k + sizeAt] as number));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { bytes, counts };
}

const a = summarise(fileA);
const b = summarise(fileB);
const rows = [...new Set([...a.bytes.keys(), ...b.bytes.keys()])].map((key) => ({
  key,
  bytes: ((b.bytes.get(key) ?? 0) - (a.bytes.get(key) ?? 0)) / perWorker,
  count: ((b.counts.get(key) ?? 0) - (a.counts.get(key) ?? 0)) / perWorker,
}));
rows.sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((s, r) => s + r.bytes, 0);
console.log(`bytes per worker (self size), all kinds: ${Math.round(total)}`);
for (const r of rows.slice(0, Number(values.top))) console.log(`${String(Math.round(r.bytes)).padStart(7)}  ${r.count.toFixed(2).padStart(7)} objects  ${r.key}`);
