/**
 * A deep copy of JSON data (what journal events carry: objects, arrays, strings, numbers,
 * booleans, null). The fold copies each event's records into the state so the state never shares
 * objects with an event still held elsewhere (the recent-events window, a cluster follower's page).
 * `structuredClone` does the same through V8's serializer and cost about three times as much per
 * small record; on a bulk create it was the largest single cost of folding a task.created event
 * (bench/README.md, "Bulk creation"). `undefined` properties are dropped, as the journal drops them.
 */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) out[i] = cloneJson(value[i] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    // A parsed "__proto__" key is an own property; plain assignment would set the copy's prototype instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: cloneJson(v), enumerable: true, writable: true, configurable: true });
    else out[k] = cloneJson(v);
  }
  return out as T;
}
