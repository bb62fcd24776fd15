/**
 * Reads a GitHub issue's scheduling fields (area, tier, effort, skills, priority, acceptance)
 * from its labels and from a fenced ```owp YAML block in its body:
 *
 *   labels:  owp:area=docs  owp:tier=1  owp:effort=2  owp:skill=ts  owp:skill=docs  owp:priority=5
 *
 *   ```owp
 *   area: docs
 *   tier: 1
 *   effort: 2
 *   skills: [ts, docs]
 *   priority: 5
 *   acceptance:
 *     - The README explains the new flag
 *   ```
 *
 * Labels win over the block: only people with triage rights can set labels, while the body is
 * the author's text (the block is read only when the caller trusts the author, see sync.ts).
 * A value that does not fit the protocol's schema is dropped with a warning, never guessed.
 */
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { Area, Effort, Skill, Tier } from '../../protocol/model.ts';

export interface IssueFields {
  area?: string;
  tier?: number;
  effort?: number;
  skills?: string[];
  priority?: number;
  acceptance?: string[];
}

export interface ParsedIssueFields {
  fields: IssueFields;
  /** Why a label or block value was ignored, for the log and the task's x_github. */
  warnings: string[];
}

const LABEL = /^owp:(area|tier|effort|skill|skills|priority)=(.+)$/i;
const BLOCK = /^```owp[ \t]*\r?\n([\s\S]*?)\r?\n```[ \t]*$/m;

function integer(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) ? text : undefined;
  if (typeof text === 'string' && /^-?\d{1,4}$/.test(text.trim())) return Number(text.trim());
  return undefined;
}

function accept<T>(schema: TSchema, value: unknown, what: string, warnings: string[]): T | undefined {
  if (value !== undefined && Value.Check(schema, value)) return value as T;
  warnings.push(`ignored ${what} ${JSON.stringify(value)}: not a valid value`);
  return undefined;
}

function priorityOf(value: unknown, what: string, warnings: string[]): number | undefined {
  const n = integer(value);
  if (n !== undefined && n >= -100 && n <= 100) return n;
  warnings.push(`ignored ${what} ${JSON.stringify(value)}: priority is an integer from -100 to 100`);
  return undefined;
}

function skillsOf(values: unknown[], what: string, warnings: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const skill = accept<string>(Skill, typeof v === 'string' ? v.trim().toLowerCase() : v, what, warnings);
    if (skill !== undefined && !out.includes(skill)) out.push(skill);
  }
  return out.slice(0, 32);
}

/** Fields from `owp:key=value` labels. */
export function fieldsFromLabels(labels: readonly string[]): ParsedIssueFields {
  const fields: IssueFields = {};
  const warnings: string[] = [];
  const skills: string[] = [];
  for (const label of labels) {
    const m = LABEL.exec(label.trim());
    if (!m) continue;
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] as string).trim();
    const what = `label "${label}"`;
    if (key === 'area') {
      const area = accept<string>(Area, value.toLowerCase(), what, warnings);
      if (area !== undefined) fields.area = area;
    } else if (key === 'tier') {
      const tier = accept<number>(Tier, integer(value), what, warnings);
      if (tier !== undefined) fields.tier = tier;
    } else if (key === 'effort') {
      const effort = accept<number>(Effort, integer(value), what, warnings);
      if (effort !== undefined) fields.effort = effort;
    } else if (key === 'priority') {
      const priority = priorityOf(value, what, warnings);
      if (priority !== undefined) fields.priority = priority;
    } else {
      skills.push(...skillsOf(value.split(','), what, warnings).filter((s) => !skills.includes(s)));
    }
  }
  if (skills.length > 0) fields.skills = skills;
  return { fields, warnings };
}

/** Fields from the first ```owp fenced YAML block of a body. */
export function fieldsFromBody(body: string | null | undefined): ParsedIssueFields {
  const fields: IssueFields = {};
  const warnings: string[] = [];
  const m = body ? BLOCK.exec(body) : null;
  if (!m) return { fields, warnings };
  let raw: unknown;
  try {
    raw = parseYaml(m[1] as string, { maxAliasCount: 10 });
  } catch (error) {
    warnings.push(`ignored the owp block: not valid YAML (${(error as Error).message.split('\n')[0]})`);
    return { fields, warnings };
  }
  if (raw === null || raw === undefined) return { fields, warnings };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    warnings.push('ignored the owp block: it must be a mapping such as "tier: 1"');
    return { fields, warnings };
  }
  const block = raw as Record<string, unknown>;
  for (const key of Object.keys(block)) {
    if (!['area', 'tier', 'effort', 'skills', 'priority', 'acceptance'].includes(key)) warnings.push(`ignored unknown key "${key}" in the owp block`);
  }
  if ('area' in block) {
    const area = accept<string>(Area, typeof block.area === 'string' ? block.area.trim().toLowerCase() : block.area, 'block area', warnings);
    if (area !== undefined) fields.area = area;
  }
  if ('tier' in block) {
    const tier = accept<number>(Tier, integer(block.tier), 'block tier', warnings);
    if (tier !== undefined) fields.tier = tier;
  }
  if ('effort' in block) {
    const effort = accept<number>(Effort, integer(block.effort), 'block effort', warnings);
    if (effort !== undefined) fields.effort = effort;
  }
  if ('priority' in block) {
    const priority = priorityOf(block.priority, 'block priority', warnings);
    if (priority !== undefined) fields.priority = priority;
  }
  if ('skills' in block) {
    const list = Array.isArray(block.skills) ? block.skills : typeof block.skills === 'string' ? block.skills.split(',') : [block.skills];
    const skills = skillsOf(list, 'block skill', warnings);
    if (skills.length > 0) fields.skills = skills;
  }
  if ('acceptance' in block) {
    const list = Array.isArray(block.acceptance) ? block.acceptance : [block.acceptance];
    const acceptance = list.filter((a): a is string => typeof a === 'string' && a.trim() !== '').map((a) => a.trim().slice(0, 1000)).slice(0, 50);
    if (acceptance.length !== list.length) warnings.push('ignored acceptance entries that are not text');
    if (acceptance.length > 0) fields.acceptance = acceptance;
  }
  return { fields, warnings };
}

/** Labels over block; the block only when the caller trusts the body's author. */
export function issueFields(labels: readonly string[], body: string | null | undefined, readBody: boolean): ParsedIssueFields {
  const fromBody = readBody ? fieldsFromBody(body) : { fields: {}, warnings: [] };
  const fromLabels = fieldsFromLabels(labels);
  return { fields: { ...fromBody.fields, ...fromLabels.fields }, warnings: [...fromBody.warnings, ...fromLabels.warnings] };
}
