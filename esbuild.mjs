// Bundles OWP: one esbuild context per bundle, as in VS Code's bundling guide.
// Type-checking is its own step (`npm run typecheck`); this only bundles.
import * as esbuild from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --outdir=DIR writes the bundles there instead of dist/ (the container check lays out an image that way).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length);

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
  legalComments: 'none',
};

/** @type {import('esbuild').BuildOptions[]} */
const bundles = [
  {
    // The CLI carries the coordinator, the worker and the tools; ESM so ESM-only deps (Octokit) bundle cleanly.
    // Split into chunks so a dynamic import() stays lazy: each command, the cluster (pg), the GitHub
    // sync (Octokit) and the demo load only when used, not at every start (bench/README.md, "Restart").
    entryPoints: { cli: 'cli/main.ts' },
    outdir: 'dist',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'cli-chunks/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // socket.io's optional native addons are looked up at run time; keep them out of the bundle.
    external: ['bufferutil', 'utf-8-validate'],
    // Every chunk gets the banner: bundled CommonJS code calls require() in whichever chunk it lands.
    banner: { js: "import { createRequire as __owpCreateRequire } from 'node:module'; const require = __owpCreateRequire(import.meta.url);" },
  },
  {
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    // Bundled libraries probe `navigator` to detect browsers; in the extension host (Node) that
    // global is a deprecated getter that logs an error per access. We are never in a browser here.
    define: { navigator: 'undefined' },
  },
  {
    // The contract/policy language server, started by the extension's language client over stdio.
    entryPoints: ['lsp/server.ts'],
    outfile: 'dist/lsp-server.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    entryPoints: ['media/dashboard/main.ts'],
    outfile: 'dist/media/dashboard.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

// A bundle whose entry is missing is an error, never a bundle quietly left out: the .vsix, the
// CLI and the dashboard would otherwise ship without it and fail only when someone runs it.
const missing = bundles.flatMap((options) => Object.values(options.entryPoints)).filter((entry) => !existsSync(entry));
if (missing.length > 0) {
  console.error(`esbuild.mjs: missing entry point${missing.length === 1 ? '' : 's'} ${missing.join(', ')}. Restore ${missing.length === 1 ? 'it' : 'them'} or remove the bundle from esbuild.mjs.`);
  process.exit(1);
}
const placed = outdir
  ? bundles.map((options) => (options.outdir ? { ...options, outdir: join(outdir, relative('dist', options.outdir)) } : { ...options, outfile: join(outdir, relative('dist', options.outfile)) }))
  : bundles;
// Chunk names carry a content hash: clear the last build's so dist/ holds only what cli.mjs imports.
for (const options of placed) if (options.splitting && !watch) rmSync(join(options.outdir, 'cli-chunks'), { recursive: true, force: true });

const contexts = await Promise.all(placed.map((options) => esbuild.context({ ...common, ...options })));
if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
}
