/**
 * The environment a child process gets: an allow-list, never the volunteer's whole environment.
 *
 * Gate commands (`npm ci`, `npm test`) run the task branch's code, which the volunteer's AI tool
 * wrote while reading a stranger's issue; the AI tool itself runs whatever it decides to. Either
 * could send a token it finds in its environment anywhere, so children get what programs need to
 * run (PATH, HOME, locale, terminal, temp dirs; the Windows equivalents) and nothing else: no
 * GITHUB_TOKEN, GH_TOKEN, OWP_*, *_TOKEN, *_SECRET, *_KEY, SSH_AUTH_SOCK, cloud credentials.
 *
 * A volunteer who needs more (a proxy, a registry) names the variables to pass: `OWP_PASS_ENV`
 * for the CLI (`HTTPS_PROXY,NPM_CONFIG_REGISTRY`), `owp.passEnv` in VS Code. A name passed on
 * purpose is passed even when it looks secret: the volunteer chose it. An AI tool also gets the
 * variables its own descriptor lists (its API key), since it cannot run without them.
 */

/** Exact names every child gets when set. */
const BASE_NAMES = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TERM', 'COLORTERM', 'TERM_PROGRAM', 'NO_COLOR', 'FORCE_COLOR',
  'TMPDIR', 'TMP', 'TEMP', 'TZ', 'DISPLAY', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME',
  // Windows: programs do not start without some of these.
  'SystemRoot', 'SYSTEMROOT', 'windir', 'WINDIR', 'ComSpec', 'COMSPEC', 'PATHEXT', 'USERPROFILE', 'HOMEDRIVE', 'HOMEPATH',
  'APPDATA', 'LOCALAPPDATA', 'ProgramData', 'ProgramFiles', 'ProgramFiles(x86)', 'CommonProgramFiles', 'NUMBER_OF_PROCESSORS', 'PROCESSOR_ARCHITECTURE', 'OS',
] as const;

/** Name prefixes every child gets (locale), unless the name looks like a secret. */
const BASE_PREFIXES = ['LC_'] as const;

/** Names never passed unless the volunteer names them exactly. */
export function looksSecret(name: string): boolean {
  const upper = name.toUpperCase();
  return (
    upper.startsWith('OWP_') ||
    upper === 'SSH_AUTH_SOCK' ||
    upper === 'GH_TOKEN' ||
    upper === 'GITHUB_TOKEN' ||
    /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|_KEY|APIKEY|_PAT|AUTH|COOKIE|SESSION)/.test(upper)
  );
}

export interface ChildEnvOptions {
  /** Variables to pass besides the base: exact names, or a prefix ending in `*` (`AIDER_*`). Added to `OWP_PASS_ENV`'s. */
  pass?: readonly string[];
  /** Set on top (CI=1, GIT_TERMINAL_PROMPT=0, credentials a trusted child needs). */
  set?: Record<string, string>;
}

/** The environment for a child process, from `base` (the volunteer's). */
export function childEnv(base: NodeJS.ProcessEnv = process.env, options: ChildEnvOptions = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  const chosen = [...passEnvFrom(base.OWP_PASS_ENV), ...(options.pass ?? [])];
  const exact = new Set(chosen.filter((n) => !n.endsWith('*')));
  // A prefix is a family of settings (AIDER_*); a secret-looking member still needs its exact name.
  const prefixes = [...BASE_PREFIXES, ...chosen.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1))];
  const base_ = new Set<string>(BASE_NAMES);
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    if (exact.has(name) || (!looksSecret(name) && (base_.has(name) || prefixes.some((p) => p !== '' && name.startsWith(p))))) out[name] = value;
  }
  return { ...out, ...options.set };
}

/** `OWP_PASS_ENV=A,B C` → ['A', 'B', 'C']; only names that are names. */
export function passEnvFrom(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((n) => /^[A-Za-z_][A-Za-z0-9_()]*\*?$/.test(n));
}
