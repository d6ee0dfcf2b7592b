// o2r-muncher runs each job itself; Arca records jobs that run elsewhere.
// This stands where o2r's executor stands, for o2r's test compendia: it
// takes each job that has not started, records o2r's ten steps, ends them
// as o2r's executor ends them for that compendium (the outcomes o2r's tests
// name), collects what the run wrote with `arca collect`, and finishes the
// job. It talks to Arca only through its real interfaces: REST to find the
// work, the catalog's gRPC API for steps, the arca CLI for files.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const STEPS = ['validate_bag', 'generate_configuration', 'validate_compendium', 'generate_manifest',
  'image_prepare', 'image_build', 'image_execute', 'check', 'image_save', 'cleanup'];
const K = 'skipped', S = 'success', F = 'failure';
const compendium = { validate_bag: K, generate_configuration: K, validate_compendium: S, generate_manifest: K };
const workspace = { validate_bag: K, generate_configuration: S, validate_compendium: S, generate_manifest: S };
const ran = { image_prepare: S, image_build: S, image_execute: S };
const displayed = ['main.Rmd', 'display.html', 'data/BerlinMit.csv'];
const notDisplayed = ['main.Rmd', 'data/BerlinMit.csv'];
// Per compendium: each step's end (a step left out never runs and stays
// queued), and the files the run leaves in the job's folder.
const SCRIPTS = {
  'workspace/dummy': { ...workspace, ...ran, check: S, image_save: S, files: displayed },
  'workspace/rmd-data': { ...workspace, ...ran, check: F, image_save: S, files: displayed },
  'workspace/rmd-data-random': { ...workspace, ...ran, check: F, image_save: S, files: displayed },
  'workspace/rmd-textdiff': { ...workspace, ...ran, check: F, image_save: S, files: displayed },
  'workspace/rmd-configuration-file': { ...workspace, generate_configuration: K, ...ran, check: S, image_save: S,
    files: displayed },
  'workspace/failing-execution': { ...workspace, generate_manifest: K, image_prepare: S, image_build: S,
    image_execute: F, files: notDisplayed },
  'workspace/failing-manifest-generation': { ...workspace, generate_manifest: F, files: notDisplayed },
  'erc/dummy': { ...compendium, ...ran, check: S, image_save: S, files: displayed },
  'erc/step_validate_bag': { ...compendium, validate_compendium: F, generate_manifest: undefined, files: [] },
  'erc/step_validate_compendium': { ...compendium, generate_manifest: F, files: [] },
  'erc/step_image_prepare': { ...compendium, image_prepare: S, image_build: F, files: notDisplayed },
  'erc/step_image_build': { ...compendium, image_prepare: S, image_build: S, image_execute: F, files: notDisplayed },
  'erc/step_image_execute': { ...compendium, ...ran, check: F, files: notDisplayed },
  'erc/step_check': { ...compendium, generate_manifest: S, ...ran, check: S, image_save: S, files: displayed },
};

const env = process.env;
const definition = loader.loadSync('proto/catalog/v1/catalog.proto', {
  includeDirs: [env.ARCA_PROTO_ROOT], keepCase: true, enums: String, longs: String,
});
const { Catalog } = grpc.loadPackageDefinition(definition).arca.catalog.v1;
const catalog = new Catalog(env.ARCA_CATALOG, grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve, reject) => {
  catalog[method](request, { deadline: Date.now() + 10000 }, (err, reply) => (err ? reject(err) : resolve(reply)));
});
const now = () => {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
};
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function getJson(url) {
  const res = await fetch(env.TEST_HOST + url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

const STATUS = { queued: 'STEP_STATUS_QUEUED', running: 'STEP_STATUS_RUNNING', success: 'STEP_STATUS_SUCCESS',
  failure: 'STEP_STATUS_FAILURE', skipped: 'STEP_STATUS_SKIP' };

async function run(jobId) {
  const job = await getJson(`/api/v1/job/${jobId}`);
  const artifact = await getJson(`/api/v1/jobArtifacts/${job.compendium_id}`);
  const script = SCRIPTS[artifact.name.replace(/^o2r-/, '').replace('-', '/')];
  if (!script) throw new Error(`no script for compendium ${artifact.name}`);
  const step = (name, status, fields) => call('UpdateStep', {
    job_id: jobId, step: { name, status: STATUS[status], ...fields },
  });
  for (const name of STEPS) await step(name, 'queued', {});
  for (const name of STEPS) {
    const end = name === 'cleanup' ? S : script[name];
    if (!end) continue;
    const start = now();
    if (end === K) {  // o2r: a skipped step starts and ends at once
      await step(name, K, { start, end: start, text: `${name} skipped` });
      continue;
    }
    await step(name, 'running', { start });
    await pause(50);
    await step(name, end, { end: now(), text: `${name}: ${end}` });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2r-job-'));
  try {
    for (const file of script.files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), `${file} of ${jobId}\n`);
    }
    if (script.files.length) {
      execFileSync(path.join(env.ARCA_BIN, 'arca'),
        [`--catalog=${env.ARCA_CATALOG}`, `--collector=${env.ARCA_COLLECTOR}`, 'collect', dir, '--job', jobId],
        { stdio: ['ignore', 'ignore', 'inherit'] });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await call('FinishJob', { job_id: jobId });
}

let stopped = false;
let loop;
const taken = new Set();

async function work() {
  while (!stopped) {
    try {
      const { results } = await getJson('/api/v1/job?status=running&limit=1000');
      // Oldest first, as a queue.
      for (const id of results.reverse()) {
        if (stopped || taken.has(id)) continue;
        taken.add(id);
        await run(id);
      }
    } catch (err) {
      if (!stopped) console.error(`executor: ${err.message}`);
    }
    await pause(50);
  }
}

exports.start = () => { loop = work(); };
exports.stop = async () => {
  stopped = true;
  await loop;
  catalog.close();
};
