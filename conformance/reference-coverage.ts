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
  'POL-010': { file: 'test/github/signed-commits.test.ts', why: 'needs a repo connected to a code host the kit does not control (capability `github-sync`)', evidence: 'signed_commits' },
  'POL-011': { file: 'test/github/pr-lane.test.ts', why: 'needs a repo connected to a code host the kit does not control (capability `github-sync`)', evidence: 'pr_lane' },
  'MATCH-004': { file: 'test/conformance/reference-requirements.test.ts', why: 'how a repo policy is written is not part of the wire protocol (capability `policy`)' },
};
