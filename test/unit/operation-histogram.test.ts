import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { OperationHistogram } from '../../coordinator/operation-histogram.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('the operation histogram exposes exactly what prom-client\'s Histogram exposes for the same observations', async () => {
  const ours = new Registry();
  const stock = new Registry();
  const name = 'owp_operation_duration_seconds';
  const help = 'Time to answer an OWP operation.';
  const fast = new OperationHistogram(name, help, BUCKETS, ours);
  const reference = new Histogram({ name, help, labelNames: ['operation', 'outcome'] as const, buckets: BUCKETS, registers: [stock] });
  const next = random(20);
  const operations = ['offer.accept', 'lease.release', 'task.get', 'a "quoted" \\ op\nname'];
  const outcomes = ['ok', 'NOT_FOUND', 'RATE_LIMITED'];
  for (let i = 0; i < 5000; i += 1) {
    const operation = operations[Math.floor(next() * operations.length)] as string;
    const outcome = outcomes[Math.floor(next() * outcomes.length)] as string;
    // Values on a bound count in that bound's bucket (le): a third of them sit exactly on one.
    const r = next();
    const seconds = r < 0.33 ? (BUCKETS[Math.floor(next() * BUCKETS.length)] as number) : r < 0.36 ? 0 : r < 0.4 ? 7 + next() : next() * next() * 3;
    fast.observe(operation, outcome, seconds);
    reference.observe({ operation, outcome }, seconds);
  }
  // The series come in the order they were first seen in both: the text compares line for line.
  assert.equal(await ours.metrics(), await stock.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await stock.getMetricsAsJSON());
  assert.equal(await Registry.merge([ours]).metrics(), await Registry.merge([stock]).metrics());
  fast.reset();
  reference.reset();
  assert.equal(await ours.metrics(), await stock.metrics());
});
