/**
 * The coordinator's structured log (pino): one JSON object per line on stderr when stderr is not a
 * terminal (a service manager or container runtime collects it), pretty lines on a terminal.
 * Levels: fatal, error, warn, info (default), debug (every request and socket command), trace.
 *
 * Secrets never reach the output: fields that carry them are replaced by "[redacted]" wherever
 * they sit (Authorization headers, `token`, `admin_token`, `secret`, …), and every string is also
 * scrubbed of anything shaped like an OWP or GitHub token, a bearer credential, or a secret the
 * coordinator was told about (`addLogSecret`: the admin token, the metrics token).
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogOptions {
  level?: LogLevel;
  /** auto (default): pretty when the destination is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Where lines go; default stderr. A stream here always gets JSON unless format is pretty. */
  destination?: DestinationStream;
}

const CENSOR = '[redacted]';

/** Keys whose values are secrets, at the top level or nested (fast-redact paths, one `*` per level). */
const SECRET_KEYS = ['token', 'admin_token', 'metrics_token', 'secret', 'webhook_secret', 'password', 'authorization', 'cookie'];
const SECRET_HEADERS = ['proxy-authorization', 'x-hub-signature-256', 'x-owp-token'];
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
  ...SECRET_HEADERS.flatMap((header) => [`headers["${header}"]`, `*.headers["${header}"]`]),
];

/** Token shapes scrubbed from every string: OWP worker/maintainer tokens, GitHub tokens, bearer credentials. */
const TOKEN_PATTERNS = [/\bowp[wm]_[A-Za-z0-9_-]{16,}/g, /\bgh[pousr]_[A-Za-z0-9]{16,}/g, /\bgithub_pat_[A-Za-z0-9_]{20,}/g, /\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi];

const SECRETS = Symbol('owp.log.secrets');

function scrubText(text: string, secrets: ReadonlySet<string>): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8 && out.includes(secret)) out = out.split(secret).join(CENSOR);
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, (match) => (/^(Bearer|Basic|token)\s/i.test(match) ? `${match.split(/\s+/)[0]} ${CENSOR}` : CENSOR));
  return out;
}

function scrubValue(value: unknown, secrets: ReadonlySet<string>, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    // Same class (the serializer names it), scrubbed message and stack.
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error & Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) copy[k] = scrubValue(v, secrets, depth + 1);
    Object.defineProperty(copy, 'message', { value: scrubText(value.message, secrets), enumerable: false });
    if (value.stack) Object.defineProperty(copy, 'stack', { value: scrubText(value.stack, secrets), enumerable: false });
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, secrets, depth + 1);
  return out;
}

export function createLogger(options: LogOptions = {}): Logger {
  const secrets = new Set<string>();
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, name: 'owp' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubValue(object, secrets, 0) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a, secrets) : a));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  const pretty = options.format === 'pretty' || (options.format !== 'json' && !options.destination && process.stderr.isTTY === true);
  let destination: DestinationStream;
  if (pretty) {
    destination = PinoPretty({ destination: options.destination ?? 2, sync: true, colorize: !options.destination && process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' });
  } else {
    destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  }
  const logger = pino(config, destination);
  Object.defineProperty(logger, SECRETS, { value: secrets });
  return logger;
}

/** Scrubs this exact string from everything the logger (and its children) writes from now on. */
export function addLogSecret(logger: Logger, secret: string | undefined): void {
  if (!secret) return;
  (logger as unknown as Record<symbol, Set<string> | undefined>)[SECRETS]?.add(secret);
}

/** A logger that writes nothing (tests and embedded uses that do not pass one). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Parses a level name from a flag, env var or config value; throws with the choices otherwise. */
export function parseLogLevel(value: unknown, where: string): LogLevel {
  if (typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`${where} must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(value)}.`);
}
