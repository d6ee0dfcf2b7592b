// Arca's GraphQL schema and engine, checked by the reference implementation:
// the full introspection query GraphiQL sends must build a client schema,
// sample documents graphql-js accepts must run on Arca without errors, and
// documents graphql-js rejects must be rejected by Arca too.
// Usage: node conformance.mjs http://HOST:PORT/graphql
import assert from 'node:assert/strict';
import {
  buildClientSchema, getIntrospectionQuery, parse, printSchema, validate,
} from 'graphql';

const url = process.argv[2];
let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e.message}`);
  }
}
async function post(query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.json() };
}

let schema;
await check('introspection builds a client schema', async () => {
  const { status, body } = await post(getIntrospectionQuery({
    descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
    schemaDescription: true, inputValueDeprecation: true,
  }));
  assert.equal(status, 200);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  schema = buildClientSchema(body.data);
  const sdl = printSchema(schema);
  for (const want of ['phJob(where: PhJobWhereUniqueInput!): PhJob!', 'cleanupPhJobArtifact: Int!',
    'type PhJobArtifact', 'prefix: String!', 'items: [PhJobArtifactItem!]!', 'size: Int!', 'lastModified: String',
    'phJobsConnection(', '): PhJobConnection!', 'type PhJobArtifactItem']) {
    assert.ok(sdl.includes(want), `schema lacks ${want}`);
  }
});

const valid = [
  `query { phJobsConnection(where: {groupId_in: ["team-a"], search: "", mine: false}, page: 1, orderBy: {}) {
     pageInfo { totalPage currentPage } edges { cursor node { id displayName phase createTime instanceType { id name }
     artifact { prefix items { name size lastModified } } } } } }`,
  `mutation { cleanupPhJobArtifact }`,
  `query Jobs($status: String, $n: Int = 5) { phJobs(where: {status: $status}, limit: $n) { items { id name status steps { name status } } hasNextPage } }`,
  `{ jobArtifacts(name: "x") { artifactID version tags { key value } } jobArtifactNames(prefix: "x") }`,
  `{ schedulingConstraints(jobJarUrl: "http://r/a.zip", labels: [{key: "k", value: "v"}]) { attributes { key source } warnings } }`,
  `query { ...Q } fragment Q on Query { a: jobArtifactNames b: jobArtifactNames(contains: "z") }`,
  `query($skip: Boolean!) { jobArtifactNames @skip(if: $skip) __typename }`,
  `{ __type(name: "PhJob") { fields { name type { name kind ofType { name } } } } }`,
];
for (const doc of valid) {
  await check(`valid: ${doc}`, async () => {
    assert.deepEqual(validate(schema, parse(doc)), [], 'graphql-js rejects it');
    const variables = doc.includes('$skip') ? { skip: false } : {};
    const { status, body } = await post(doc, variables);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  });
}

const invalid = [
  `{ phJob(where: {id: "x"}) { nope } }`,
  `{ phJob { id } }`,
  `{ phJob(where: {id: "x"}) }`,
  `{ jobArtifactNames { name } }`,
  `{ jobArtifacts(name: 5) { name } }`,
  `query($x: Int) { jobArtifactNames }`,
  `{ jobArtifactNames(prefix: $p) }`,
  `query($p: Int) { jobArtifactNames(prefix: $p) }`,
  `{ ...F }`,
  `{ jobArtifactNames } fragment F on Query { jobArtifactNames }`,
  `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
  `{ ... on PhJob { id } }`,
  `{ jobArtifactNames @nope }`,
  `query A { jobArtifactNames } query A { jobArtifactNames }`,
  `{ jobArtifactNames } query B { jobArtifactNames }`,
  `{ a: jobArtifactNames(prefix: "x") a: jobArtifactNames(prefix: "y") }`,
  `{ phJobs(limit: 1.5) { hasNextPage } }`,
  `{ phJobs(where: {nope: 1}) { hasNextPage } }`,
];
for (const doc of invalid) {
  await check(`invalid: ${doc}`, async () => {
    assert.notDeepEqual(validate(schema, parse(doc)), [], 'graphql-js accepts it');
    const { status, body } = await post(doc, {});
    assert.equal(status, 400, JSON.stringify(body));
    assert.ok(body.errors.length > 0 && body.data === undefined);
    for (const e of body.errors) assert.ok(e.locations?.length > 0, `no location: ${e.message}`);
  });
}

console.log(`graphql conformance: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
