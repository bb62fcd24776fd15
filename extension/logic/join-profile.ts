/**
 * What joining the pool needs (coordinator URL, GitHub login, skills, capacity) and how typed
 * values are checked. The patterns are the protocol's own, so the coordinator never has to refuse
 * what this accepted.
 */
import { Effort, GithubLogin, Skill } from '../../protocol/model.ts';

export interface JoinSettings {
  coordinatorUrl?: string;
  githubLogin?: string;
  skills?: string[];
  capacity?: number;
}

export type JoinField = 'coordinatorUrl' | 'githubLogin' | 'skills' | 'capacity';

const LOGIN = new RegExp(GithubLogin.pattern as string);
const SKILL = new RegExp(Skill.pattern as string);
const CAPACITY_MIN = Effort.minimum as number;
const CAPACITY_MAX = Effort.maximum as number;

/** Problem with a typed coordinator URL, or undefined when it is fine. */
export function coordinatorUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return 'Enter a full URL such as http://127.0.0.1:8787.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'The coordinator URL must start with http:// or https://.';
  return undefined;
}

export function githubLoginProblem(text: string): string | undefined {
  const login = text.trim();
  if (!login) return 'Enter your GitHub login: PRs are opened as you.';
  if (!LOGIN.test(login)) return 'A GitHub login has letters, digits and dashes only (at most 39 characters).';
  return undefined;
}

/** "docs, TS  tests" → ["docs", "ts", "tests"]. */
export function parseSkills(text: string): { skills: string[] } | { problem: string } {
  const skills = [...new Set(text.split(/[\s,;]+/).map((s) => s.trim().toLowerCase()).filter(Boolean))];
  if (skills.length === 0) return { problem: 'Enter at least one skill, such as: docs, tests, ts.' };
  const bad = skills.filter((s) => !SKILL.test(s));
  if (bad.length > 0) return { problem: `Not a skill tag: ${bad.join(', ')}. Use lower-case words such as docs, ts, rust.` };
  if (skills.length > 32) return { problem: 'At most 32 skills.' };
  return { skills };
}

export function parseCapacity(text: string): { capacity: number } | { problem: string } {
  const capacity = Number(text.trim());
  if (!Number.isInteger(capacity) || capacity < CAPACITY_MIN || capacity > CAPACITY_MAX) {
    return { problem: `Capacity is a whole number of effort points from ${CAPACITY_MIN} to ${CAPACITY_MAX}: how much work you take at once.` };
  }
  return { capacity };
}

/**
 * The fields the join flow must ask for: those with no usable value in settings.
 * `explicit` says which settings the user (or a test's settings.json) set; a field with a
 * default but no explicit value is still asked, prefilled with the default, so the volunteer sees it.
 */
export function missingJoinFields(settings: JoinSettings, explicit: ReadonlySet<JoinField>): JoinField[] {
  const missing: JoinField[] = [];
  if (!explicit.has('coordinatorUrl') || !settings.coordinatorUrl || coordinatorUrlProblem(settings.coordinatorUrl)) missing.push('coordinatorUrl');
  if (!settings.githubLogin || githubLoginProblem(settings.githubLogin)) missing.push('githubLogin');
  const skills = parseSkills((settings.skills ?? []).join(','));
  if (!explicit.has('skills') || 'problem' in skills) missing.push('skills');
  const capacity = parseCapacity(String(settings.capacity ?? ''));
  if (!explicit.has('capacity') || 'problem' in capacity) missing.push('capacity');
  return missing;
}
