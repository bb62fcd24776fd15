/**
 * A real headless browser for page tests: Debian's chromium driven by playwright-core
 * (`scripts/ensure-chromium.sh` installs it), with the launch flags from DESIGN.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumPath(): string {
  const fromEnv = process.env.OWP_CHROMIUM;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed; run scripts/ensure-chromium.sh (it installs Debian\'s chromium).');
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
}

/** Bundles the dashboard as esbuild.mjs does, into a fresh folder, so tests never run a stale dist/. */
export async function buildDashboardAssets(): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'owp-dashboard-assets-'));
  await esbuild.build({
    entryPoints: [resolve('media/dashboard/main.ts')],
    outfile: join(outdir, 'dashboard.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  return outdir;
}

/** Screenshots and traces of page tests go here (git-ignored). */
export function artifactsDir(name: string): string {
  const dir = resolve('.artifacts', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface PageWatch {
  dialogs: string[];
  problems: string[];
}

/** Records a page's dialogs (dismissed), page errors and console errors (CSP violations are reported there). */
export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { dialogs: [], problems: [] };
  page.on('dialog', (dialog) => {
    w.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => w.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') w.problems.push(`console: ${message.text()}`);
  });
  return w;
}

/** What a dashboard page test needs, ready from the suite's `before` hook on. */
export interface DashboardBrowser {
  /** The bundled dashboard, to serve with `dashboardStaticHandler({ assetsDir })`. */
  assetsDir: string;
  browser: Browser;
}

/**
 * Builds the dashboard's assets and launches Chromium once for the enclosing `describe`, and
 * closes and removes both after it. Read the fields inside tests (they are set by `before`).
 */
export function dashboardBrowser(): DashboardBrowser {
  const ctx = {} as DashboardBrowser;
  before(async () => {
    ctx.assetsDir = await buildDashboardAssets();
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    if (ctx.assetsDir) rmSync(ctx.assetsDir, { recursive: true, force: true });
  });
  return ctx;
}
