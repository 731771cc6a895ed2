// graphql-inspector's diff of GraphQL SDL files, pair by pair:
//   node schema-diff.mjs OLD.graphql NEW.graphql [OLD2 NEW2 ...]
// prints one JSON array per pair (in an outer array) of {type, level, path, message, reason}.
// The policy (what must be declared, what was deprecated first) is the Python test's
// (tests/hub/test_api_breaking_changes.py); this only reports what the library finds.
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { diff } from '@graphql-inspector/core';

const files = process.argv.slice(2);
if (files.length === 0 || files.length % 2 !== 0) {
  console.error('usage: node schema-diff.mjs OLD.graphql NEW.graphql [OLD NEW ...]');
  process.exit(2);
}
const load = (path) => buildSchema(readFileSync(path, 'utf8'));
const out = [];
for (let i = 0; i < files.length; i += 2) {
  const changes = await diff(load(files[i]), load(files[i + 1]));
  out.push(changes.map((c) => ({
    type: c.type,
    level: c.criticality.level,
    path: c.path ?? null,
    message: c.message,
    reason: c.criticality.reason ?? null,
  })));
}
process.stdout.write(JSON.stringify(out));
