/** Assertions on envelopes that say what the implementation answered when they fail. */
import { AssertionError } from 'node:assert';
import type { WireAck } from './wire.ts';

export function describeAck(ack: WireAck): string {
  return ack.ok ? `ok (${JSON.stringify(ack.data).slice(0, 160)})` : `${ack.error.code}: ${ack.error.message}`;
}

export function expectOk<T = Record<string, unknown>>(ack: WireAck, what: string): T {
  if (!ack.ok) throw new AssertionError({ message: `${what}: expected success, got ${describeAck(ack)}` });
  return ack.data as T;
}

export function expectError(ack: WireAck, code: string | readonly string[], what: string): { code: string; message: string; details?: Record<string, unknown> } {
  const codes = typeof code === 'string' ? [code] : code;
  if (ack.ok || !codes.includes(ack.error.code)) {
    throw new AssertionError({ message: `${what}: expected ${codes.join(' or ')}, got ${describeAck(ack)}` });
  }
  return ack.error;
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError({ message });
}

export function checkEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new AssertionError({ message: `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}` });
  }
}
