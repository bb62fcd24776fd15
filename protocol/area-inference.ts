/**
 * Which area of a repo a change belongs to, from the paths it touches and the contract's `areas`
 * (area name → path globs). One home for the worker side and the coordinator, which checks that a
 * reported PR stays within its task's area (policy rule pr_lane) and warns when two live leases are
 * likely to touch the same paths. Pure: no I/O.
 */
import picomatch from 'picomatch';

export interface AreaInference {
  /** The one area every path falls in, or undefined when the paths span several areas or none. */
  area: string | undefined;
  /** Each path's owning area (the first area, in contract order, with a matching glob). */
  byPath: Record<string, string | undefined>;
  /** The distinct areas the paths touch, in contract order. */
  areas: string[];
  /** Paths no area's globs match. */
  unmatched: string[];
}

const matchers = new WeakMap<Record<string, string[]>, Array<[string, (path: string) => boolean]>>();

function areaMatchers(areas: Record<string, string[]>): Array<[string, (path: string) => boolean]> {
  let list = matchers.get(areas);
  if (!list) {
    list = Object.entries(areas).map(([name, globs]) => [name, picomatch(globs, { dot: true })]);
    matchers.set(areas, list);
  }
  return list;
}

/**
 * Infers the area of a change from the paths it touches (repo-relative, `/`-separated). Areas are
 * tried in the order the contract lists them and the first match owns a path, like the first
 * matching rule of a config file, so specific areas go first. Pure: no I/O.
 */
export function inferArea(paths: readonly string[], areas: Record<string, string[]>): AreaInference {
  const list = areaMatchers(areas);
  const byPath: Record<string, string | undefined> = {};
  const touched = new Set<string>();
  const unmatched: string[] = [];
  for (const raw of paths) {
    const path = raw.replace(/\\/g, '/').replace(/^\.\//, '');
    const owner = list.find(([, matches]) => matches(path))?.[0];
    byPath[raw] = owner;
    if (owner === undefined) unmatched.push(raw);
    else touched.add(owner);
  }
  const ordered = list.map(([name]) => name).filter((name) => touched.has(name));
  const area = ordered.length === 1 && unmatched.length === 0 ? ordered[0] : undefined;
  return { area, byPath, areas: ordered, unmatched };
}

/** True when an area is the lane itself or inside it (`docs/api` is inside `docs`). */
export function areaWithin(area: string | undefined, lane: string): boolean {
  return area !== undefined && (area === lane || area.startsWith(`${lane}/`));
}

/**
 * Whether a change that touched `touched` (its inferred areas, and paths no area owns) stays in a
 * task's area: every touched area is the task's area or inside it, and no path is unowned.
 */
export function strayAreas(inference: AreaInference, taskArea: string): { stray: string[]; unmatched: string[] } {
  return { stray: inference.areas.filter((a) => !areaWithin(a, taskArea)), unmatched: inference.unmatched };
}

/**
 * Whether two areas may touch the same paths: one is the other or inside it. Two live leases on
 * such areas are likely to collide (the area lock only prevents two tasks of the same area).
 */
export function areasOverlap(a: string, b: string): boolean {
  return areaWithin(a, b) || areaWithin(b, a);
}
