/**
 * Reads the requirement ids out of SPEC.md: each `**ID**` with its section, level and first
 * sentence. The generator writes conformance/requirements.ts from this, and a test checks that
 * the file still matches the spec, so the kit's registry cannot drift from SPEC.md.
 */
import type { Level, Requirement } from './types.ts';

const ID = /\*\*([A-Z]+-\d{3})\*\*/g;
const HEADING = /^#{2,3} (?:(\d+(?:\.\d+)?)\.? |(Appendix [A-Z])\.? )/;

export function parseRequirements(spec: string): Requirement[] {
  const headings: Array<{ at: number; section: string }> = [];
  let offset = 0;
  for (const line of spec.split('\n')) {
    const m = HEADING.exec(line);
    if (m) headings.push({ at: offset, section: m[1] ? `§${m[1]}` : (m[2] as string) });
    offset += line.length + 1;
  }
  const matches = [...spec.matchAll(ID)];
  return matches.map((m, i) => {
    const start = (m.index as number) + m[0].length;
    const nextId = matches[i + 1]?.index ?? spec.length;
    const paragraphEnd = firstIndex(spec, start, ['\n\n', '\n#', '\n- ', '\nAccess:']);
    const text = spec.slice(start, Math.min(nextId, paragraphEnd)).replace(/\s+/g, ' ').trim();
    const section = [...headings].reverse().find((h) => h.at <= (m.index as number))?.section ?? '§?';
    return { id: m[1] as string, level: levelOf(text), section, title: firstSentence(text) };
  });
}

function firstIndex(text: string, from: number, needles: string[]): number {
  let best = text.length;
  for (const n of needles) {
    const i = text.indexOf(n, from);
    if (i !== -1 && i < best) best = i;
  }
  return best;
}

function levelOf(text: string): Level {
  if (/\bMUST\b/.test(text)) return 'MUST';
  if (/\bSHOULD\b/.test(text)) return 'SHOULD';
  if (/\bMAY\b/.test(text)) return 'MAY';
  // Eligibility rules (MATCH-*, AREA-001, BUDGET-*) are the clauses of OFFER-002's MUST.
  return 'MUST';
}

/** Up to the first `.`, `;` or `:` that ends a clause outside a code span. */
function firstSentence(text: string): string {
  let inCode = false;
  let end = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '`') inCode = !inCode;
    else if (!inCode && (c === '.' || c === ';' || c === ':') && (i + 1 === text.length || text[i + 1] === ' ')) {
      end = i;
      break;
    }
  }
  const sentence = text.slice(0, end).trim();
  return sentence.length > 140 ? `${sentence.slice(0, 137)}…` : sentence;
}
