/** Tests that measure something record it here; `npm run test:reliability` collects the figures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const dir = process.env.OWP_FIGURES_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(figures, null, 2));
}
