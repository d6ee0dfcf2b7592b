// Validates the OpenAPI document the gateway serves against the OpenAPI 3.1
// schema (and its references), then checks that every operation is sound:
// each path parameter declared, an answer for every operation.
// Usage: node validate.mjs URL
import { Validator } from '@seriousme/openapi-schema-validator';

const url = process.argv[2];
const res = await fetch(url);
if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
const doc = await res.json();

const validator = new Validator();
const result = await validator.validate(doc);
if (!result.valid) {
  console.error(JSON.stringify(result.errors, null, 1));
  throw new Error(`${url} is not valid OpenAPI ${validator.version}`);
}
if (validator.version !== '3.1') throw new Error(`described as OpenAPI ${validator.version}, not 3.1`);

const problems = [];
// Every $ref points at something in the document.
const resolve = (ref) => ref.slice(2).split('/').reduce((o, k) => (o === undefined ? o : o[k]), doc);
(function refs(o) {
  if (o === null || typeof o !== 'object') return;
  if (typeof o.$ref === 'string' && resolve(o.$ref) === undefined) problems.push(`${o.$ref} points at nothing`);
  Object.values(o).forEach(refs);
})(doc);
let operations = 0;
for (const [path, item] of Object.entries(doc.paths)) {
  const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const [method, op] of Object.entries(item)) {
    operations++;
    const params = (op.parameters || []).map((p) => (p.$ref ? resolve(p.$ref) : p));
    const declared = params.filter((p) => p.in === 'path').map((p) => p.name);
    for (const name of templated) {
      if (!declared.includes(name)) problems.push(`${method} ${path}: path parameter {${name}} not declared`);
    }
    if (!op.summary) problems.push(`${method} ${path}: no summary`);
  }
}
if (problems.length) throw new Error(problems.join('\n'));
console.log(`${url}: valid OpenAPI 3.1, ${Object.keys(doc.paths).length} paths, ${operations} operations`);
