/**
 * The architecture's rules over the import graph (import-graph.ts), each with the sentence a
 * person reads when an import breaks it. ARCHITECTURE.md explains them; test/unit/layers.test.ts
 * applies them to the real code and shows each one firing on a deliberately bad import.
 */
import { PARTS, TOOLING, type ImportEdge, type Part } from './import-graph.ts';

/** Layers point down: nothing below these imports them. */
const TOP: readonly Part[] = ['extension', 'cli'];
/** The extension's ids (commands, views, settings): pure constants its logic may use. */
const EXTENSION_IDS = 'extension/constants.ts';
/** The dashboard's page shell is the only file of the dashboard a host may import (the rest is browser code). */
export const DASHBOARD_SHELL = 'media/dashboard/shell.ts';

/**
 * Imports that break a rule today and are being removed, each with where that happens. The test
 * fails when one of them is gone, so the list only shrinks.
 */
export const KNOWN_EXCEPTIONS: ReadonlyArray<{ file: string; toFile: string; why: string }> = [];

export function isKnownException(e: ImportEdge): boolean {
  return KNOWN_EXCEPTIONS.some((x) => x.file === e.file && x.toFile === e.toFile);
}

const isPart = (target: string): target is (typeof PARTS)[number] => (PARTS as readonly string[]).includes(target);
const isTooling = (target: string): boolean => (TOOLING as readonly string[]).includes(target);

/** Why this import breaks the architecture, or undefined when it does not. */
export function ruleBroken(e: ImportEdge): string | undefined {
  // Tests of extension code may name VS Code's types for their doubles; nothing else outside extension/ may import it.
  if (e.to === 'vscode' && e.from !== 'extension' && !(isTooling(e.from) && e.typeOnly)) return 'only extension/ imports `vscode`; keep logic that other parts need free of it';
  if (isTooling(e.from)) return undefined;
  if (e.file.startsWith('extension/logic/') && (e.to === 'vscode' || (e.to === 'extension' && !e.toFile?.startsWith('extension/logic/') && e.toFile !== EXTENSION_IDS))) {
    return `extension/logic/ is the extension's logic without VS Code: it imports no vscode and, of the extension, only itself and ${EXTENSION_IDS}`;
  }
  if (isTooling(e.to)) return `${e.from}/ imports ${e.to}/: the product never imports tooling (the CLI bundle cannot carry test code)`;
  if (e.to === 'elsewhere') return `${e.from}/ imports a file outside the parts of OWP`;
  if (e.from === 'protocol' && e.to !== 'protocol' && isPart(e.to)) return 'protocol/ imports no implementation: it is what every part shares';
  if ((e.from === 'client' && e.to === 'coordinator') || (e.from === 'coordinator' && e.to === 'client')) return 'client/ and coordinator/ never import each other: what both need lives in protocol/';
  if (e.from === 'dashboard' && ((isPart(e.to) && e.to !== 'dashboard' && e.to !== 'protocol') || e.to === 'node')) return 'the dashboard (media/dashboard) runs in a browser and imports only protocol/, itself and its npm libraries';
  if (e.to === 'dashboard' && e.from !== 'dashboard' && e.toFile !== DASHBOARD_SHELL) return `hosts of the dashboard import only its page shell (${DASHBOARD_SHELL}); the rest is browser code`;
  if (isPart(e.to) && TOP.includes(e.to) && e.from !== e.to) return `layers point down: ${e.from}/ may not import ${e.to}/`;
  return undefined;
}

/** Every import that breaks a rule, as `file → specifier: why`, known exceptions aside. */
export function layerViolations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const why = ruleBroken(e);
    if (why && !isKnownException(e)) out.push(`${e.file} → ${e.specifier}: ${why}`);
  }
  return out;
}

/** The arrows drawn in ARCHITECTURE.md's diagram (`a --> b` lines of its first mermaid block). */
export function drawnArrows(markdown: string): string[] {
  const block = /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
  return [...block.matchAll(/^\s*([a-z]+)\s*-->\s*([a-z]+)\s*$/gm)].map((m) => `${m[1]} --> ${m[2]}`).sort();
}
