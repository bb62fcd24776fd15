// `npm run gen`: writes the JSON Schemas, OpenAPI/AsyncAPI documents and SPEC.md tables generated from protocol/*.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedFiles, renderSpec } from '../protocol/generate.ts';

for (const [path, content] of generatedFiles()) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
writeFileSync('protocol/SPEC.md', renderSpec(readFileSync('protocol/SPEC.md', 'utf8')));
console.log('Generated protocol/schemas, protocol/openapi.json, protocol/asyncapi.json and the tables in protocol/SPEC.md.');
