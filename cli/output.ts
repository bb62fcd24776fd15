/**
 * Terminal output for the interactive commands (worker, submit, demo). Three modes, picked once:
 * a terminal gets colours and one live status line (with a spinner while something runs) that
 * messages scroll above; a pipe gets plain lines and no escape codes; `--json` gets one JSON
 * object per line for scripts. Colours follow NO_COLOR / FORCE_COLOR through picocolors.
 */
import pc from 'picocolors';

export type Level = 'info' | 'success' | 'warn' | 'error' | 'step' | 'dim';

export interface OutputOptions {
  json?: boolean;
  stream?: NodeJS.WriteStream;
  /** Override terminal detection (tests). */
  tty?: boolean;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_INTERVAL_MS = 80;

export class Output {
  readonly json: boolean;
  readonly tty: boolean;
  readonly colors: ReturnType<typeof pc.createColors>;
  private readonly stream: NodeJS.WriteStream;
  private statusText = '';
  /** The status line a spinner replaced, put back when it stops. */
  private beforeSpin = '';
  private spinning = false;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private paused = false;

  constructor(options: OutputOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.json = options.json ?? false;
    this.tty = !this.json && (options.tty ?? Boolean(this.stream.isTTY));
    this.colors = pc.createColors(this.tty && pc.isColorSupported);
  }

  /** A human message; in JSON mode it becomes `{event: "log", level, message}`. */
  line(level: Level, message: string, data: Record<string, unknown> = {}): void {
    if (this.json) {
      this.event('log', { level, message, ...data });
      return;
    }
    const c = this.colors;
    const mark = { info: c.cyan('•'), success: c.green('✓'), warn: c.yellow('!'), error: c.red('✗'), step: c.magenta('▸'), dim: c.dim('·') }[level];
    const text = level === 'dim' ? c.dim(message) : level === 'error' ? c.red(message) : message;
    this.write(`${mark} ${text}`);
  }

  info(message: string, data?: Record<string, unknown>): void {
    this.line('info', message, data);
  }
  success(message: string, data?: Record<string, unknown>): void {
    this.line('success', message, data);
  }
  warn(message: string, data?: Record<string, unknown>): void {
    this.line('warn', message, data);
  }
  error(message: string, data?: Record<string, unknown>): void {
    this.line('error', message, data);
  }

  /** A machine-readable event: JSON mode only (humans get `line`). */
  event(type: string, data: Record<string, unknown> = {}): void {
    if (!this.json) return;
    this.stream.write(`${JSON.stringify({ event: type, at: Date.now(), ...data })}\n`);
  }

  /** Raw text (a prompt, a table), kept apart from the status line. */
  block(text: string): void {
    if (this.json) return;
    this.write(text.replace(/\n$/, ''));
  }

  /** Sets the live status line (terminal only). */
  status(text: string): void {
    this.statusText = text;
    if (this.tty && !this.paused) this.redraw();
  }

  /** Shows a spinner before the status line until `stopSpinner`. */
  spin(text: string): void {
    if (!this.spinning) this.beforeSpin = this.statusText;
    this.statusText = text;
    if (!this.tty) {
      this.line('step', text);
      return;
    }
    this.spinning = true;
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % SPINNER.length;
        if (!this.paused) this.redraw();
      }, SPIN_INTERVAL_MS);
      this.timer.unref?.();
    }
    this.redraw();
  }

  stopSpinner(): void {
    if (this.spinning) this.statusText = this.beforeSpin;
    this.spinning = false;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && !this.paused) this.redraw();
  }

  /** Hands the terminal to another program (an AI tool): clears the status line until `resume`. */
  pause(): void {
    this.clear();
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.tty) this.redraw();
  }

  /** Clears the status line for good (before exit). */
  done(): void {
    this.stopSpinner();
    this.clear();
    this.statusText = '';
  }

  private write(text: string): void {
    if (this.tty) {
      this.clear();
      this.stream.write(`${text}\n`);
      if (!this.paused) this.redraw();
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  private clear(): void {
    if (this.tty && this.drawn) {
      this.stream.write('\r\x1b[2K');
      this.drawn = false;
    }
  }

  private redraw(): void {
    if (!this.statusText) {
      this.clear();
      return;
    }
    const prefix = this.spinning ? `${this.colors.cyan(SPINNER[this.frame]!)} ` : '';
    const width = this.stream.columns && this.stream.columns > 10 ? this.stream.columns - 1 : 200;
    const text = `${prefix}${this.statusText}`;
    // Cut by visible width so a long status never wraps (a wrapped line cannot be cleared with \r).
    this.stream.write(`\r\x1b[2K${truncateVisible(text, width)}`);
    this.drawn = true;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

function truncateVisible(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let out = '';
  let visible = 0;
  for (const part of text.split(/(\x1b\[[0-9;]*m)/)) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    for (const ch of part) {
      if (visible >= width - 1) return `${out}…\x1b[0m`;
      out += ch;
      visible += 1;
    }
  }
  return out;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}
