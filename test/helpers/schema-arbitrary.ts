/**
 * fast-check arbitraries generated from the protocol's JSON Schemas: values that pass an operation's
 * schema (so the fuzz reaches the engine), with ids drawn from a pool of ones that exist, and
 * mutations of them (a required field dropped, a wrong type, an unknown or prototype key, a value
 * past its bounds) that must be refused.
 */
import fc from 'fast-check';

type Schema = Record<string, any>;

/** Values that exist on the coordinator under test, so valid payloads name real tasks, leases and repos. */
export interface IdPool {
  task_id: string[];
  lease_id: string[];
  offer_id: string[];
  worker_id: string[];
  maintainer_id: string[];
  repo: string[];
  epoch: number[];
  /**
   * Ids no payload may name, drawn from the pool or generated from a pattern: the fuzz's own
   * principals. A fuzz that revokes the worker or maintainer it sends as would measure refusals of a
   * dead token for the rest of the run (its socket closed, each later call left to time out).
   */
  reserved?: readonly string[];
}

const HINTED = new Set<keyof IdPool>(['task_id', 'lease_id', 'offer_id', 'worker_id', 'maintainer_id', 'repo', 'epoch']);

export function validValue(schema: Schema, pool: IdPool, key?: string): fc.Arbitrary<unknown> {
  const reserved = pool.reserved ?? [];
  const generated = fromSchema(schema, pool);
  const own = schema.type === 'string' && reserved.length > 0 ? generated.filter((v) => !reserved.includes(v as string)) : generated;
  if (key && HINTED.has(key as keyof IdPool)) {
    const ids = pool[key as keyof IdPool] as Array<string | number>;
    if (ids.length > 0) return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: own });
  }
  return own;
}

function fromSchema(schema: Schema, pool: IdPool): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as Schema[]).map((s) => validValue(s, pool)));
  switch (schema.type) {
    case 'string':
      return stringFor(schema);
    case 'integer': {
      const min = schema.minimum ?? -1000;
      const max = schema.maximum ?? Math.max(min + 1000, 1000);
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 20) }), fc.integer({ min, max }));
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schema.items ? validValue(schema.items as Schema, pool) : fc.jsonValue({ maxDepth: 1 });
      const constraints = { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) };
      return schema.uniqueItems ? fc.uniqueArray(item, { ...constraints, selector: (v) => JSON.stringify(v) }) : fc.array(item, constraints);
    }
    case 'object':
      return objectFor(schema, pool);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: Schema): fc.Arbitrary<string> {
  const maxLength = Math.min(schema.maxLength ?? 64, 64);
  const minLength = schema.minLength ?? 0;
  if (typeof schema.pattern === 'string') {
    const re = new RegExp(schema.pattern);
    return fc.stringMatching(re).filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity)).map((s) => s);
  }
  if (schema.format === 'uri') return fc.webUrl();
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

function objectFor(schema: Schema, pool: IdPool): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set<string>((schema.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, s] of Object.entries(properties)) model[k] = validValue(s, pool, k);
  const record = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
  if (!schema.patternProperties) return record as fc.Arbitrary<Record<string, unknown>>;
  // Extension fields (x_*) where the schema allows them.
  return fc.tuple(record, fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined })).map(([r, x]) => (x === undefined ? r : { ...r, x_fuzz: x })) as fc.Arbitrary<Record<string, unknown>>;
}

export type Mutation = 'none' | 'drop-required' | 'wrong-type' | 'unknown-key' | 'proto-key' | 'past-bounds' | 'huge' | 'deep';

export interface Mutated {
  payload: Record<string, unknown>;
  mutation: Mutation;
  /** True when the mutation makes the payload invalid for the schema: it must never be answered ok. */
  mustRefuse: boolean;
  /** The field a mutation removed or changed, when it names one. */
  field?: string;
}

/** Sets an own property, even one named __proto__ (plain assignment would change the prototype instead). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function mutate(schema: Schema, valid: fc.Arbitrary<unknown>): fc.Arbitrary<Mutated> {
  const properties = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
  const required = (schema.required ?? []) as string[];
  const closed = schema.additionalProperties === false;
  const base = valid.map((v) => ({ ...(v as Record<string, unknown>) }));
  const some = <T>(list: T[], fallback: T): fc.Arbitrary<T> => (list.length > 0 ? fc.constantFrom(...list) : fc.constant(fallback));
  const options: Array<{ weight: number; arbitrary: fc.Arbitrary<Mutated> }> = [
    { weight: 9, arbitrary: base.map((payload) => ({ payload, mutation: 'none' as const, mustRefuse: false })) },
    {
      weight: 2,
      arbitrary: fc.tuple(base, fc.constantFrom('__proto__', 'constructor', 'prototype'), some(properties, 'x'), fc.jsonValue({ maxDepth: 1 }), fc.boolean()).map(([payload, key, field, value, withRequired]) => {
        // A prototype key carrying the required fields: a binding that merges it into the params' prototype would pass the schema.
        const inner: Record<string, unknown> = withRequired ? { ...payload } : { [field]: value };
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(payload)) if (!withRequired || !required.includes(k)) out[k] = v;
        setOwn(out, key, inner);
        return { payload: out, mutation: 'proto-key' as const, mustRefuse: true };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(base, fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !properties.includes(k) && !k.startsWith('x_') && !['__proto__', 'constructor', 'prototype'].includes(k)), fc.jsonValue({ maxDepth: 1 })).map(([payload, key, value]) => {
        setOwn(payload, key, value);
        return { payload, mutation: 'unknown-key' as const, mustRefuse: closed };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(base, fc.jsonValue({ maxDepth: 2 }), some(properties, '')).map(([payload, value, key]) => {
        if (key) payload[key] = value;
        return { payload, mutation: 'wrong-type' as const, mustRefuse: false };
      }),
    },
  ];
  if (required.length > 0) {
    options.push({
      weight: 1,
      arbitrary: fc.tuple(base, fc.constantFrom(...required)).map(([payload, key]) => {
        delete payload[key];
        return { payload, mutation: 'drop-required' as const, mustRefuse: true, field: key };
      }),
    });
  }
  const bounded = properties.filter((k) => {
    const s = (schema.properties as Record<string, Schema>)[k] as Schema;
    return typeof s.maximum === 'number' || typeof s.maxLength === 'number' || s.type === 'integer';
  });
  if (bounded.length > 0) {
    options.push({
      weight: 1,
      arbitrary: fc.tuple(base, fc.constantFrom(...bounded), fc.nat({ max: 3 })).map(([payload, key, how]) => {
        const s = (schema.properties as Record<string, Schema>)[key] as Schema;
        let invalid: boolean;
        if (s.type === 'integer') {
          const values = [(s.maximum ?? Number.MAX_SAFE_INTEGER) + 1, (s.minimum ?? -Number.MAX_SAFE_INTEGER) - 1, 1.5, Number.MAX_SAFE_INTEGER + 2];
          payload[key] = values[how];
          invalid = [s.maximum !== undefined, s.minimum !== undefined, true, s.maximum !== undefined][how] as boolean;
        } else {
          payload[key] = 'y'.repeat(Math.min(s.maxLength ?? 70_000, 200_000) + 1);
          invalid = s.maxLength !== undefined;
        }
        return { payload, mutation: 'past-bounds' as const, mustRefuse: invalid };
      }),
    });
  }
  options.push(
    { weight: 1, arbitrary: base.map((payload) => ({ payload: { ...payload, x_huge: 'z'.repeat(300_000) }, mutation: 'huge' as const, mustRefuse: true })) },
    { weight: 1, arbitrary: fc.tuple(base, fc.integer({ min: 17, max: 200 })).map(([payload, depth]) => ({ payload: { ...payload, x_deep: JSON.parse('['.repeat(depth) + ']'.repeat(depth)) }, mutation: 'deep' as const, mustRefuse: true })) },
  );
  return fc.oneof(...options);
}

/** Path parameter values: real ids mostly, and hostile segments (traversal, bad escapes, NUL, long, unicode). */
export function pathSegment(ids: string[]): fc.Arbitrary<{ raw: string; hostile: boolean }> {
  const real = ids.length > 0 ? fc.constantFrom(...ids).map((id) => ({ raw: encodeURIComponent(id), hostile: false })) : fc.constant({ raw: 'T-1', hostile: false });
  const hostile = fc.oneof(
    fc.constantFrom('..', '%2e%2e', '%2F', '%00', '%E0%A4%A', '%', '%zz', 'T-1%2F..%2F..', '__proto__', 'constructor', 'x'.repeat(5000), '%F0%9F%92%A9', 'T-1;drop'),
    fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
  ).map((raw) => ({ raw, hostile: true }));
  return fc.oneof({ weight: 3, arbitrary: real }, { weight: 2, arbitrary: hostile });
}
