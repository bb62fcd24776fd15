/**
 * Coordinator configuration: defaults < config file (YAML or JSON) < command-line flags.
 * Every duration says its unit.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseGitHubConfig } from './github/config.ts';

export interface RepoSeed {
  repo: string;
  /** A local checkout of the repo: its `.owp.yml` gates and `.owp/policy.yml` are read at start. */
  checkout?: string;
  [setting: string]: unknown;
}

export interface CoordinatorConfig {
  port: number;
  host: string;
  data_dir: string;
  store: 'lowdb' | 'memory';
  name: string;
  registration: 'open' | 'closed';
  invites: string[];
  sweep_interval_ms: number;
  snapshot_interval_ms: number;
  snapshot_every_events: number;
  archive_after_ms: number;
  repos: RepoSeed[];
  /** Connected GitHub repos (see coordinator/github/config.ts); null: not connected. */
  github: Record<string, unknown> | null;
}

export const DEFAULT_CONFIG: CoordinatorConfig = {
  port: 8787,
  host: '127.0.0.1',
  data_dir: '.owp',
  store: 'lowdb',
  name: 'owp-reference',
  registration: 'open',
  invites: [],
  sweep_interval_ms: 250,
  snapshot_interval_ms: 60_000,
  snapshot_every_events: 50_000,
  archive_after_ms: 10 * 60_000,
  repos: [],
  github: null,
};

const NUMERIC: Array<keyof CoordinatorConfig> = ['port', 'sweep_interval_ms', 'snapshot_interval_ms', 'snapshot_every_events', 'archive_after_ms'];

export function loadConfigFile(path: string): Partial<CoordinatorConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new Error(`The config file ${path} is not valid YAML/JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`The config file ${path} must hold a mapping of settings.`);
  const config = parsed as Record<string, unknown>;
  const known = new Set(Object.keys(DEFAULT_CONFIG));
  const unknown = Object.keys(config).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`Unknown setting(s) in ${path}: ${unknown.join(', ')}. Known: ${[...known].join(', ')}.`);
  for (const key of NUMERIC) {
    if (key in config && (typeof config[key] !== 'number' || !Number.isFinite(config[key] as number) || (config[key] as number) < 0)) {
      throw new Error(`${key} in ${path} must be a non-negative number.`);
    }
  }
  if ('store' in config && config.store !== 'lowdb' && config.store !== 'memory') throw new Error(`store in ${path} must be "lowdb" or "memory".`);
  if ('registration' in config && config.registration !== 'open' && config.registration !== 'closed') throw new Error(`registration in ${path} must be "open" or "closed".`);
  if (config.github !== undefined && config.github !== null) {
    try {
      parseGitHubConfig(config.github);
    } catch (error) {
      throw new Error(`${path}: ${(error as Error).message}`);
    }
  }
  return config as Partial<CoordinatorConfig>;
}
