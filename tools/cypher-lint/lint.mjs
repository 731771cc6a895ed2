#!/usr/bin/env node
// Offline Cypher checker: runs each statement through Neo4j's own parser and
// semantic analysis (npm package @neo4j-cypher/language-support, pinned in
// package.json) and prints the diagnostics as JSON.
//
// Input (stdin), either a bare array of statements
//   [{"name": "q1", "query": "MATCH (n) RETURN n", "params": ["id"]}, ...]
// or an object with optional schema declarations
//   {"labels": [...], "relationshipTypes": [...], "propertyKeys": [...],
//    "checkFunctions": false, "checkProcedures": false,
//    "cypherVersion": "CYPHER 5", "statements": [...]}
//
// Output (stdout): [{"name": "q1", "diagnostics": [{"severity": "error",
//   "message": "...", "offset": 0, "endOffset": 3, "line": 1, "column": 1,
//   "endLine": 1, "endColumn": 4}]}, ...] in input order. offset/endOffset are
// 0-based character offsets into the query; line/column are 1-based.
//
// Exit code: 0 when linting ran (whatever the diagnostics), 2 for bad input,
// 1 when the linter itself failed. Errors go to stderr.
//
// Batch mode (`node lint.mjs --lines`): stdin is JSON lines, each one request
// in the format above; for each, one line of output in the same order: the
// result array, or {"error": "...", "badInput": true|false} for a request that
// failed (the process carries on). One long-lived process pays the warm-up
// once, however many batches it is sent.
//
// Schema semantics (from the package's syntaxValidation.ts):
//  * parameters: {name: value}; a parameter counts as declared when its value
//    is not undefined. Undeclared parameters are reported as errors.
//  * label / relationship type warnings only run when BOTH labels and
//    relationshipTypes are declared; property-key warnings only when
//    propertyKeys is declared. Nothing declared = no such warnings.
//  * functions / procedures: unknown names are only reported when a registry
//    is declared. checkFunctions / checkProcedures declare the registry that
//    ships with the package (Neo4j 5 built-ins plus APOC/GDS); keep them off
//    for statements that use FalkorDB-specific procedures.
//  * Without a "CYPHER 5"/"CYPHER 25" prefix, statements are analysed as
//    cypherVersion (default "CYPHER 5").
//
// Cost: Neo4j's semantic analysis (TeaVM-compiled Java) dominates, about
// 0.09 CPU-seconds per statement once warm, whatever its length (measured with
// 2.0.0-next.38 on Node 20, the project's 491 statements with the shipped
// function and procedure registries: 46 CPU-s, 58 before `fingerprinted`
// below), plus ~1 s of warm-up, so lint many statements in ONE invocation. Worker threads gave no speed-up on 2 cores
// (the JIT/GC threads already use the second core), so there are none.
// The package declares engines.node >=24.11.1 but works on Node 20.

const SEVERITIES = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };
const CYPHER_VERSIONS = ['CYPHER 5', 'CYPHER 25'];
const TOP_LEVEL_KEYS = new Set([
  'labels',
  'relationshipTypes',
  'propertyKeys',
  'checkFunctions',
  'checkProcedures',
  'cypherVersion',
  'statements',
]);
const STATEMENT_KEYS = new Set(['name', 'query', 'params']);

class InputError extends Error {}

function isStringArray(value) {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function parseInput(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`input is not valid JSON: ${err.message}`);
  }
  const options = {};
  let statements;
  if (Array.isArray(data)) {
    statements = data;
  } else if (data !== null && typeof data === 'object') {
    for (const key of Object.keys(data)) {
      if (!TOP_LEVEL_KEYS.has(key)) {
        throw new InputError(`unknown top-level key ${JSON.stringify(key)}`);
      }
    }
    if (!Array.isArray(data.statements)) {
      throw new InputError('"statements" must be an array');
    }
    statements = data.statements;
    for (const key of ['labels', 'relationshipTypes', 'propertyKeys']) {
      if (data[key] !== undefined) {
        if (!isStringArray(data[key])) {
          throw new InputError(`"${key}" must be an array of strings`);
        }
        options[key] = data[key];
      }
    }
    for (const key of ['checkFunctions', 'checkProcedures']) {
      if (data[key] !== undefined && typeof data[key] !== 'boolean') {
        throw new InputError(`"${key}" must be a boolean`);
      }
      options[key] = data[key] === true;
    }
    if (data.cypherVersion !== undefined) {
      if (!CYPHER_VERSIONS.includes(data.cypherVersion)) {
        throw new InputError(
          `"cypherVersion" must be one of ${JSON.stringify(CYPHER_VERSIONS)}`,
        );
      }
      options.cypherVersion = data.cypherVersion;
    }
  } else {
    throw new InputError(
      'input must be a JSON array of statements or an object with "statements"',
    );
  }
  statements.forEach((stmt, i) => {
    const where = `statement #${i}`;
    if (stmt === null || typeof stmt !== 'object' || Array.isArray(stmt)) {
      throw new InputError(`${where} must be an object`);
    }
    for (const key of Object.keys(stmt)) {
      if (!STATEMENT_KEYS.has(key)) {
        throw new InputError(`${where}: unknown key ${JSON.stringify(key)}`);
      }
    }
    if (typeof stmt.name !== 'string') {
      throw new InputError(`${where}: "name" must be a string`);
    }
    if (typeof stmt.query !== 'string') {
      throw new InputError(`${where} (${stmt.name}): "query" must be a string`);
    }
    if (stmt.params !== undefined && !isStringArray(stmt.params)) {
      throw new InputError(
        `${where} (${stmt.name}): "params" must be an array of strings`,
      );
    }
  });
  return {
    options,
    statements: statements.map((s) => ({
      name: s.name,
      query: s.query,
      params: s.params ?? [],
    })),
  };
}

// The package decides whether to reload its signature registry by comparing
// JSON.stringify(registry) with the previous call's, on EVERY statement: 2 x 0.5 MB of JSON per
// statement for the shipped registry (11 % of the lint's CPU). The registry never changes in
// this process, so each version's map stringifies as a short fingerprint instead (a
// non-enumerable toJSON: Object.values, which the package also uses, does not see it).
function fingerprinted(registry) {
  const copy = {};
  for (const [version, signatures] of Object.entries(registry)) {
    const map = { ...signatures };
    Object.defineProperty(map, 'toJSON', {
      value: () => `shipped ${version} registry, ${Object.keys(signatures).length} entries`,
      enumerable: false,
    });
    copy[version] = map;
  }
  return copy;
}

async function makeLinter(options) {
  let lintCypherQuery, testData;
  try {
    ({ lintCypherQuery, testData } = await import('@neo4j-cypher/language-support'));
  } catch (err) {
    throw new Error(
      `cannot load @neo4j-cypher/language-support (run "npm ci" in ${new URL('.', import.meta.url).pathname}): ${err?.message ?? err}`,
    );
  }
  const base = {};
  if (options.labels !== undefined) base.labels = options.labels;
  if (options.relationshipTypes !== undefined) {
    base.relationshipTypes = options.relationshipTypes;
  }
  if (options.propertyKeys !== undefined) base.propertyKeys = options.propertyKeys;
  if (options.checkFunctions) base.functions = fingerprinted(testData.mockSchema.functions);
  if (options.checkProcedures) base.procedures = fingerprinted(testData.mockSchema.procedures);
  if (options.cypherVersion !== undefined) {
    base.defaultLanguage = options.cypherVersion;
  }

  return function lint({ query, params }) {
    // Any value other than undefined marks a parameter as declared. Accept
    // names written with their "$" too.
    const parameters = Object.fromEntries(
      params.map((p) => [p.startsWith('$') ? p.slice(1) : p, null]),
    );
    const { diagnostics } = lintCypherQuery(
      query,
      { ...base, parameters },
      // Our statements go through a driver, never a console: ":param" etc. are errors.
      { consoleCommandsEnabled: false },
    );
    return diagnostics.map((d) => ({
      severity: SEVERITIES[d.severity] ?? `unknown(${d.severity})`,
      message: d.message,
      offset: d.offsets?.start,
      endOffset: d.offsets?.end,
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
      endLine: d.range.end.line + 1,
      endColumn: d.range.end.character + 1,
    }));
  };
}

function lintOne(lint, stmt) {
  try {
    return lint(stmt);
  } catch (err) {
    throw new Error(
      `linter crashed on statement ${JSON.stringify(stmt.name)}: ${err?.stack ?? err}`,
    );
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  try {
    const { options, statements } = parseInput(await readStdin());
    const lint = await makeLinter(options);
    const diagnostics = statements.map((stmt) => lintOne(lint, stmt));
    const output = statements.map((stmt, i) => ({
      name: stmt.name,
      diagnostics: diagnostics[i],
    }));
    process.stdout.write(JSON.stringify(output) + '\n');
    process.exitCode = 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`cypher-lint: bad input: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`cypher-lint: failed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    }
  }
}

async function serveLines() {
  const readline = await import('node:readline');
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let reply;
    try {
      const { options, statements } = parseInput(line);
      const lint = await makeLinter(options);
      reply = statements.map((stmt) => ({ name: stmt.name, diagnostics: lintOne(lint, stmt) }));
    } catch (err) {
      reply = {
        error: err instanceof InputError ? err.message : String(err?.stack ?? err),
        badInput: err instanceof InputError,
      };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
}

if (process.argv.includes('--lines')) {
  await serveLines();
} else {
  await main();
}
