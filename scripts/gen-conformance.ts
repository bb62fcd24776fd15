// `npm run gen:conformance`: writes conformance/requirements.ts and the table in SPEC.md Appendix A from SPEC.md and the suites.
import { readFileSync, writeFileSync } from 'node:fs';
import { REQUIREMENTS_FILE, renderRequirementsModule, renderSpecAppendix } from '../conformance/generate.ts';

const spec = readFileSync('protocol/SPEC.md', 'utf8');
writeFileSync(REQUIREMENTS_FILE, renderRequirementsModule(spec));
// The suites import the registry, so load them only after it is written.
const { ALL_SUITES } = await import('../conformance/suites.ts');
writeFileSync('protocol/SPEC.md', renderSpecAppendix(spec, ALL_SUITES));
console.log(`Generated ${REQUIREMENTS_FILE} and the requirements table in protocol/SPEC.md (Appendix A).`);
