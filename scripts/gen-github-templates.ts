// `npm run gen` (also): writes cli/demo/github/templates.ts, the GitHub-shaped server's response
// templates, from @octokit/fixtures' recorded GitHub responses (a development dependency).
import { writeFileSync } from 'node:fs';
import { TEMPLATES_FILE, templatesModule } from '../test/helpers/fake-github/fixtures.ts';

writeFileSync(TEMPLATES_FILE, templatesModule());
console.log(`Generated ${TEMPLATES_FILE} from @octokit/fixtures.`);
