// @vitest-environment node
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// vitest runs from web/.
const web = `${process.cwd()}/`;

// web/openapi.json is checked against the server's live document by a .NET test (WebConsoleTests); this one checks
// that the committed types are what openapi-typescript makes of it, so the client and the server cannot drift apart.
describe('API types', () => {
  it('schema.d.ts is generated from openapi.json (npm run gen:api)', () => {
    const generated = execFileSync(`${web}node_modules/.bin/openapi-typescript`, ['openapi.json'], { cwd: web, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const committed = readFileSync(`${web}src/api/schema.d.ts`, 'utf8');
    expect(committed === generated, 'web/src/api/schema.d.ts is stale: run `npm run gen:api --prefix web`').toBe(true);
  });
});
