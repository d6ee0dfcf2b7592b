// o2r-muncher's test/util.js, for Arca: the functions o2r's job tests use.
// startJob and waitForJob are o2r's own, without the session cookie (Arca
// keeps no sessions). A compendium is an Arca artifact.
const request = require('request');
const debug = require('debug')('test:util');
const AsyncPolling = require('async-polling');

let uploads = 0;

// o2r's tests upload a zip of a test compendium and read its id from the
// answer; here the request registers an artifact named after that
// compendium (the executor plays its run), and compendiumId reads the id
// from Arca's answer.
module.exports.createCompendiumPostRequest = function (dataPath, cookie, type, done) {
  const fixture = dataPath.replace(/^\.\/test\//, '');
  done({
    uri: global.test_host + '/api/v1/jobArtifacts',
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'o2r-' + fixture.replace('/', '-'), version: `${process.pid}.${++uploads}` }),
    timeout: 10000
  });
}

module.exports.compendiumId = (body) => JSON.parse(body).resourceID;

// An Arca artifact is published when it is registered.
module.exports.publishCandidate = function (compendium_id, cookie, done) {
  done();
}

// o2r's tests drop their MongoDB collections before each file; o2r.sh runs
// each file against a suite of its own instead.
module.exports.mongojs = () => ({
  compendia: { drop: (cb) => cb(null, {}) },
  jobs: { drop: (cb) => cb(null, {}) },
  close: () => {},
});

module.exports.startJob = function (compendium_id, done) {
  request({
    uri: global.test_host + '/api/v1/job',
    method: 'POST',
    formData: {
      compendium_id: compendium_id
    },
    timeout: 10000
  }, (err, res, body) => {
    let response = JSON.parse(body);
    debug("Started job: %o", response);
    done(response.job_id);
  });
}

module.exports.waitForJob = function (job_id, done) {
  var polling = AsyncPolling(function (end) {
    request({
      uri: global.test_host + '/api/v1/job/' + job_id,
      method: 'GET',
      timeout: 500
    }, (err, res, body) => {
      if (err) end(err, null);
      else {
        let response = JSON.parse(body);
        if (response.status !== 'running') {
          end(null, response);
        } else {
          end(new Error(response.status));
        }
      }
    });
  }, global.test_job_poll_interval);

  polling.on('error', function (error) {
    debug("Job %s: %s", job_id, error.message);
  });

  polling.on('result', function (result) {
    debug('Job finished with %s', result.status);
    done(result.status);
    polling.stop();
  });

  polling.run();
}
