/**
 * Requirements the kit cannot observe over the wire (what is on disk, what happens across a
 * restart, what a coordinator must never ask for, a code host), and the reference implementation's
 * own tests that check them instead. `evidence` is what the file must contain to count (the id by
 * default; another helper's test may name the error code instead). `owp conformance` reports these
 * as "not testable over the wire".
 */
export const REFERENCE_COVERAGE: Readonly<Record<string, { file: string; why: string; evidence?: string }>> = {
  'SEC-001': { file: 'test/conformance/reference-requirements.test.ts', why: 'what a coordinator never asks for is a property of its schemas, not of one answer' },
  'SEC-002': { file: 'test/conformance/reference-requirements.test.ts', why: 'how tokens are stored is only visible on disk' },
  'HB-003': { file: 'test/conformance/reference-requirements.test.ts', why: 'needs a coordinator restart' },
  'DUR-001': { file: 'test/conformance/reference-requirements.test.ts', why: 'durability before the ack is only visible on disk' },
  'DUR-002': { file: 'test/conformance/reference-requirements.test.ts', why: 'needs a coordinator restart' },
  'DUR-003': { file: 'test/conformance/reference-requirements.test.ts', why: 'needs failing storage' },
  'AUTH-010': { file: 'test/integration/revocation.test.ts', why: 'rotating the operator token needs a coordinator restart' },
  // Capability `policy` rules of issue 21: no wire test yet; the reference checks them in-process.
  'POL-005': { file: 'test/unit/contributor-cap.test.ts', why: 'capability `policy`: no wire test yet', evidence: 'a contributor with two workers is capped once' },
  'POL-006': { file: 'test/unit/policy-dry-run.test.ts', why: 'capability `policy`: no wire test yet', evidence: 'records its dry-run hit once' },
  'POL-007': { file: 'test/integration/vouch.test.ts', why: 'capability `policy`: no wire test yet', evidence: 'a denounced login is refused and never offered work' },
  'POL-008': { file: 'test/integration/vouch.test.ts', why: 'capability `policy`: no wire test yet', evidence: 'vouch_required keeps tasks from a tier up' },
  'MATCH-004': { file: 'test/conformance/reference-requirements.test.ts', why: 'how a repo policy is written is not part of the wire protocol (capability `policy`)' },
};
