/** The kit's outputs: a summary a person reads, JSON, and JUnit XML for CI systems. */
import type { RequirementResult, SuiteReport, TestResult } from './types.ts';

const MARK: Record<RequirementResult['status'], string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', untested: 'N/A ' };

export function formatText(report: SuiteReport, options: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const caps = report.coordinator.capabilities.length > 0 ? report.coordinator.capabilities.join(', ') : 'none';
  lines.push(`OWP conformance: ${report.url} (${report.coordinator.name}, protocol ${report.coordinator.protocol_version}, capabilities: ${caps})`);
  lines.push(`namespace ${report.namespace}, level ${report.level.toLowerCase()}, ${(report.durationMs / 1000).toFixed(1)} s`);
  lines.push('');
  const idWidth = Math.max(...report.requirements.map((r) => r.id.length));
  for (const req of report.requirements) {
    const tests = report.tests.filter((t) => t.requirement === req.id);
    // Requirements left out by --only are noise unless asked for.
    if (req.status === 'untested' && !req.coveredBy && !options.verbose) continue;
    const note = req.status === 'untested' ? (req.coveredBy ? `  (not testable over the wire; covered by ${req.coveredBy})` : '  (not selected)') : '';
    lines.push(`  ${MARK[req.status]}  ${req.id.padEnd(idWidth)}  ${req.section.padEnd(6)} ${req.level.padEnd(6)} ${req.title}${note}`);
    for (const t of tests) {
      if (t.status === 'pass' && !options.verbose) continue;
      const sign = t.status === 'pass' ? '✓' : t.status === 'skip' ? '-' : t.status === 'warn' ? '!' : '✗';
      lines.push(`        ${sign} ${t.title}${t.message ? `\n          ${t.message.split('\n').join('\n          ')}` : ''}`);
    }
  }
  const s = report.summary;
  const mustFailed = report.requirements.filter((r) => r.status === 'fail').map((r) => r.id);
  lines.push('');
  lines.push(`${report.tests.length} tests: ${s.pass} passed, ${s.fail} failed, ${s.warn} warnings (SHOULD/MAY), ${s.skip} skipped`);
  lines.push(mustFailed.length === 0 ? 'Result: conforms at MUST level.' : `Result: does NOT conform; MUST requirements failed: ${mustFailed.join(', ')}`);
  return lines.join('\n');
}

export function toJson(report: SuiteReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

function testcase(t: TestResult): string {
  const head = `    <testcase classname="owp.conformance.${xml(t.area)}" name="${xml(`${t.requirement} [${t.level}] ${t.title}`)}" time="${(t.durationMs / 1000).toFixed(3)}"`;
  if (t.status === 'pass') return `${head}/>`;
  if (t.status === 'skip') return `${head}>\n      <skipped message="${xml(t.message ?? 'skipped')}"/>\n    </testcase>`;
  if (t.status === 'warn') return `${head}>\n      <system-out>${xml(`WARNING (${t.level} not met): ${t.message ?? ''}`)}</system-out>\n    </testcase>`;
  return `${head}>\n      <failure message="${xml((t.message ?? 'failed').split('\n')[0] as string)}" type="${t.requirement}">${xml(t.message ?? '')}</failure>\n    </testcase>`;
}

/** JUnit XML: one testsuite per area; SHOULD/MAY failures are passing cases with a warning in system-out. */
export function toJunit(report: SuiteReport): string {
  const areas = [...new Set(report.tests.map((t) => t.area))];
  const suites = areas.map((area) => {
    const tests = report.tests.filter((t) => t.area === area);
    const time = tests.reduce((sum, t) => sum + t.durationMs, 0) / 1000;
    return [
      `  <testsuite name="owp.conformance.${xml(area)}" tests="${tests.length}" failures="${tests.filter((t) => t.status === 'fail').length}" errors="0" skipped="${tests.filter((t) => t.status === 'skip').length}" time="${time.toFixed(3)}" timestamp="${report.startedAt}">`,
      ...tests.map(testcase),
      '  </testsuite>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(`${report.kit} against ${report.url}`)}" tests="${report.tests.length}" failures="${report.summary.fail}" time="${(report.durationMs / 1000).toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
