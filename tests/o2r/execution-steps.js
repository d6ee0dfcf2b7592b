// o2r-muncher's test/execution-steps.js, replayed against Arca by o2r.sh.
// Adapted only where Arca cannot follow o2r (each change is listed):
// - no users, sessions or Docker: the cookie jars stay but mean nothing;
//   each file runs on a suite of its own instead of dropping MongoDB
//   collections; executor.js plays o2r's executor;
// - a compendium is an Arca artifact: its upload registers one
//   (util.createCompendiumPostRequest) and compendiumId reads its id;
// - without sessions, starting a job without one (401) or on another user's
//   candidate (403) does not apply; without Docker, neither do images,
//   containers, tarballs and uname; o2r's checker's step details
//   (manifest, statuscode, images, display, errors, diffs) are the
//   checker's: Arca keeps a step's status, times and text;
// - the second job of step_check reruns on o2r's saved image: not played;
// - the one-second break before each test is gone (Arca's tests do not
//   sleep).
/*
 * (C) Copyright 2017 o2r project
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 *
 */

/* eslint-env mocha */
const assert = require('chai').assert;
const request = require('request');
const createCompendiumPostRequest = require('./util').createCompendiumPostRequest;
const publishCandidate = require('./util').publishCandidate;
const waitForJob = require('./util').waitForJob;
const startJob = require('./util').startJob;
const mongojs = require('./util').mongojs;
const compendiumId = require('./util').compendiumId;
const fs = require('fs');
const path = require('path');
const debug = require('debug')('test:job-steps');

const cookie_o2r = 's:C0LIrsxGtHOGHld8Nv2jedjL4evGgEHo.GMsWD5Vveq0vBt7/4rGeoH5Xx7Dd2pgZR9DvhKCyDTY';
const cookie_plain = 's:yleQfdYnkh-sbj9Ez--_TWHVhXeXNEgq.qRmINNdkRuJ+iHGg5woRa9ydziuJ+DzFG9GnAZRvaaM';


describe('API job steps', () => {
  var db = mongojs('localhost/muncher', ['compendia', 'jobs']);

  before(function (done) {
    db.jobs.drop(function (err, doc) {
      done();
    });
  });

  after(function (done) {
    db.close();
    done();
  });

  describe('GET /api/v1/job (with no job started)', () => {
    it('should not yet contain array of job ids, but an empty list as valid JSON and HTTP 200', (done) => {
      request(global.test_host + '/api/v1/job', (err, res, body) => {
        assert.ifError(err);
        assert.equal(res.statusCode, 200);
        assert.isObject(JSON.parse(body), 'returned JSON');
        let response = JSON.parse(body);
        assert.property(response, 'results');
        assert.notProperty(response, 'error');
        assert.isArray(response.results);
        assert.isEmpty(response.results);
        done();
      });
    });
  });

  describe('GET /api/v1/job with compendium_id query for non-existing compendium', () => {
    it('should respond with HTTP 404 and and a helpful error message in JSON', (done) => {
      request(global.test_host + '/api/v1/job?compendium_id=1234', (err, res, body) => {
        assert.ifError(err);
        assert.equal(res.statusCode, 404);
        assert.isObject(JSON.parse(body), 'returned JSON');
        let response = JSON.parse(body);
        assert.notProperty(response, 'results');
        assert.property(response, 'error');
        done();
      });
    });
  });

  describe('EXECUTION of unknown compendium', () => {
    it('should return HTTP error and valid JSON with error message', (done) => {
      let j = request.jar();
      let ck = request.cookie('connect.sid=' + cookie_plain);
      j.setCookie(ck, global.test_host);

      request({
        uri: global.test_host + '/api/v1/job',
        method: 'POST',
        jar: j,
        formData: {
          compendium_id: '54321'
        },
        timeout: 1000
      }, (err, res, body) => {
        assert.ifError(err);
        assert.equal(res.statusCode, 400);
        let response = JSON.parse(body);
        assert.notProperty(response, 'job_id');
        assert.property(response, 'error');
        done();
      });
    });
  });

  describe('EXECUTION of multiple jobs', () => {
    let job_id0, job_id1, job_id2 = '';

    before(function (done) {
      this.timeout(90000);

      db.compendia.drop(function (err, doc) {
        createCompendiumPostRequest('./test/erc/step_validate_compendium', cookie_o2r, 'compendium', (req) => {
          request(req, (err, res, body) => {
            compendium_id = compendiumId(body);
            publishCandidate(compendium_id, cookie_o2r, () => {
              startJob(compendium_id, id => {
                job_id0 = id;
                done();
              });
            });
          });
        });
      });
    });

    it('should return job ID when starting _another_ job execution (different from the previous id)', (done) => {
      let j = request.jar();
      let ck = request.cookie('connect.sid=' + cookie_plain);
      j.setCookie(ck, global.test_host);

      request({
        uri: global.test_host + '/api/v1/job',
        method: 'POST',
        jar: j,
        formData: {
          compendium_id: compendium_id
        },
        timeout: 1000
      }, (err, res, body) => {
        assert.ifError(err);
        assert.equal(res.statusCode, 200);
        let response = JSON.parse(body);
        assert.property(response, 'job_id');
        assert.notEqual(response.job_id, job_id0);
        job_id1 = response.job_id;
        done();
      });
    });

    it('should return job ID when starting _yet another_ job execution (different from the previous ids)', (done) => {
      let j = request.jar();
      let ck = request.cookie('connect.sid=' + cookie_plain);
      j.setCookie(ck, global.test_host);

      request({
        uri: global.test_host + '/api/v1/job',
        method: 'POST',
        jar: j,
        formData: {
          compendium_id: compendium_id
        },
        timeout: 1000
      }, (err, res, body) => {
        assert.ifError(err);
        assert.equal(res.statusCode, 200);
        let response = JSON.parse(body);
        assert.property(response, 'job_id');
        assert.notEqual(response.job_id, job_id0);
        assert.notEqual(response.job_id, job_id1);
        job_id2 = response.job_id;
        done();
      });
    });
  });

  describe('EXECUTION of candidate compendium', () => {
    let compendium_id = '';

    before(function (done) {
      this.timeout(90000);
      db.compendia.drop(function (err, doc) {
        createCompendiumPostRequest('./test/workspace/dummy', cookie_o2r, 'workspace', (req) => {
          request(req, (err, res, body) => {
            compendium_id = compendiumId(body);
            done();
          });
        });
      });
    });

    it('should return HTTP 200 and start a job when author', (done) => {
      let j = request.jar();
      let ck = request.cookie('connect.sid=' + cookie_o2r);
      j.setCookie(ck, global.test_host);

      request({
        uri: global.test_host + '/api/v1/job',
        method: 'POST',
        jar: j,
        formData: {
          compendium_id: compendium_id
        },
        timeout: 1000
      }, (err, res, body) => {
        assert.ifError(err);
        response = JSON.parse(body);
        assert.equal(res.statusCode, 200);
        assert.isObject(JSON.parse(body));
        assert.property(response, 'job_id');
        assert.notProperty(response, 'error');
        done();
      });
    });
  });

  describe('EXECUTION step_validate_bag', () => {
    let job_id = '';

    before(function (done) {
      this.timeout(90000);
      db.compendia.drop(function (err, doc) {
        createCompendiumPostRequest('./test/erc/step_validate_bag', cookie_o2r, 'compendium', (req) => {
          request(req, (err, res, body) => {
            compendium_id = compendiumId(body);
            publishCandidate(compendium_id, cookie_o2r, () => {
              startJob(compendium_id, id => {
                job_id = id;
                waitForJob(job_id, (finalStatus) => {
                  done();
                });
              });
            }, true);
          });
        });
      });
    });

    it('should skip step "validate_bag"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.validate_bag, 'status', 'skipped');
        done();
      });
    });

    it('should fail step "validate_compendium"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.validate_compendium, 'status', 'failure');
        done();
      });
    });

    it('should skip configuration generation steps', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.generate_configuration, 'status', 'skipped', 'generate configuration should be skipped');
        done();
      });
    });

    it('should have remaining steps "queued"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.generate_manifest, 'status', 'queued', 'generate manifest should be queued');
        assert.propertyVal(response.steps.image_prepare, 'status', 'queued', 'image prepare should be queued');
        assert.propertyVal(response.steps.image_build, 'status', 'queued', 'image build should be queued');
        assert.propertyVal(response.steps.image_execute, 'status', 'queued', 'image execute should be queued');
        assert.propertyVal(response.steps.check, 'status', 'queued', 'check should be queued');
        done();
      });
    });

    it('should complete step "cleanup"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.cleanup, 'status', 'success');
        done();
      });
    });

    it('should have overall status "failure"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response, 'status', 'failure');
        done();
      });
    });
  });

  describe('EXECUTION step_validate_compendium', () => {
    let job_id = '';

    before(function (done) {
      this.timeout(90000);
      db.compendia.drop(function (err, doc) {
        createCompendiumPostRequest('./test/erc/step_validate_compendium', cookie_o2r, 'compendium', (req) => {
          request(req, (err, res, body) => {
            compendium_id = compendiumId(body);
            publishCandidate(compendium_id, cookie_o2r, () => {
              startJob(compendium_id, id => {
                job_id = id;
                waitForJob(job_id, (finalStatus) => {
                  done();
                });
              });
            });
          });
        });
      });
    });

    it('should complete step "validate_compendium"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.validate_compendium, 'status', 'success');
        done();
      });
    });

    it('should skip steps "validate_bag" and "generate_configuration"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.validate_bag, 'status', 'skipped');
        assert.propertyVal(response.steps.generate_configuration, 'status', 'skipped');
        done();
      });
    });

    it('should have steps "image_prepare", "image_build", "image_execute", and "check" queued', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_prepare, 'status', 'queued', 'image prepare is queued');
        assert.propertyVal(response.steps.image_build, 'status', 'queued', 'image build is queued');
        assert.propertyVal(response.steps.image_execute, 'status', 'queued', 'image execute is queued');
        assert.propertyVal(response.steps.check, 'status', 'queued', 'check is queued');
        done();
      });
    });

    it('should fail step "generate_manifest"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.generate_manifest, 'status', 'failure');
        done();
      });
    });

    it('should fail overall', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response, 'status', 'failure');
        done();
      });
    });
  });

  describe('GET /api/v1/job with multiple jobs overall', () => {

    it('should contain fewer results if start is provided', (done) => {
      request(global.test_host + '/api/v1/job', (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        let all_count = response.results.length;
        let start = 3;

        request(global.test_host + '/api/v1/job?start=' + start, (err2, res2, body2) => {
          assert.ifError(err2);
          let response2 = JSON.parse(body2);
          assert.equal(response2.results.length, all_count - start + 1);
          done();
        });
      });
    });

    it('should contain no results but an empty list (valid JSON, HTTP 200) if too large start parameter is provided', (done) => {
      request(global.test_host + '/api/v1/job?start=999', (err, res, body) => {
        assert.ifError(err);
        assert.equal(res.statusCode, 200);
        assert.isObject(JSON.parse(body), 'returned JSON');
        let response = JSON.parse(body);
        assert.property(response, 'results');
        assert.notProperty(response, 'error');
        assert.isArray(response.results);
        assert.isEmpty(response.results);
        done();
      });
    });

    it('should just list the number of jobs requested', (done) => {
      request(global.test_host + '/api/v1/job?limit=2', (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.isArray(response.results);
        assert.equal(response.results.length, 2);
        done();
      });
    });
  });

  describe('EXECUTION configuration file generation', () => {

  before(function(done) {
    db.compendia.drop(function (err, doc) {
      done();
    });
  });
  
    it('should skip steps validate bag and generate configuration, but complete following steps', (done) => {
      createCompendiumPostRequest('./test/workspace/rmd-configuration-file', cookie_o2r, 'workspace', (req) => {
        request(req, (err, res, body) => {
          assert.ifError(err);
          let compendium_id = compendiumId(body);

          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              let job_id = id;

              waitForJob(job_id, (finalStatus) => {
                request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
                  assert.ifError(err);
                  let response = JSON.parse(body);

                  assert.propertyVal(response.steps.validate_bag, 'status', 'skipped', 'skip validate bag');
                  assert.propertyVal(response.steps.generate_configuration, 'status', 'skipped', 'skip generate configuration because there is one');
                  assert.propertyVal(response.steps.validate_compendium, 'status', 'success', 'succeed validate compendium');
                  assert.propertyVal(response.steps.image_prepare, 'status', 'success', 'succeed image prepare');
                  assert.propertyVal(response.steps.image_build, 'status', 'success', 'succeed image build');
                  assert.propertyVal(response.steps.image_execute, 'status', 'success', 'succeed image execute');
                  assert.propertyVal(response.steps.cleanup, 'status', 'success', 'succeed cleanup');

                  done();
                });
              });
            });
          });
        });
      });
    }).timeout(720000);

    it('should complete step "generate_configuration" and skip previous steps for minimal-rmd-data', (done) => {
      createCompendiumPostRequest('./test/workspace/rmd-data', cookie_o2r, 'workspace', (req) => {
        request(req, (err, res, body) => {
          assert.ifError(err);
          let compendium_id = compendiumId(body);

          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              let job_id = id;

              waitForJob(job_id, (finalStatus) => {
                request(global.test_host + '/api/v1/job/' + job_id + '?steps=all', (err, res, body) => {
                  assert.ifError(err);
                  let response = JSON.parse(body);

                  assert.propertyVal(response.steps.validate_bag, 'status', 'skipped', 'skip validate bag');
                  assert.propertyVal(response.steps.validate_compendium, 'status', 'success', 'succeed validate compendium');
                  assert.propertyVal(response.steps.generate_configuration, 'status', 'success', 'succeed generate configuration');
                  assert.propertyVal(response.steps.check, 'status', 'failure', 'fail check');

                  done();
                });
              });
            });
          });
        });
      });
    }).timeout(720000);
  });

  describe('EXECUTION step_image_prepare', () => {
    let job_id = '';

    before(function (done) {
      this.timeout(90000);
      createCompendiumPostRequest('./test/erc/step_image_prepare', cookie_o2r, 'compendium', (req) => {
        request(req, (err, res, body) => {
          let compendium_id = compendiumId(body);
          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              job_id = id;
              waitForJob(job_id, (finalStatus) => {
                done();
              });
            });
          });
        });
      });
    });

    it('should complete step "image_prepare"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_prepare, 'status', 'success');
        done();
      });
    });

    it('should fail step "image_build"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_build, 'status', 'failure');
        done();
      });
    });

    it('should list other image_execute as queued', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_execute, 'status', 'queued');
        done();
      });
    });

    it('should complete step "cleanup"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.cleanup, 'status', 'success');
        done();
      });
    });

  });

  describe('EXECUTION step_image_build', () => {
    let compendium_id, job_id = null;

    before(function (done) {
      this.timeout(90000);
      createCompendiumPostRequest('./test/erc/step_image_build', cookie_o2r, 'compendium', (req) => {
        request(req, (err, res, body) => {
          compendium_id = compendiumId(body);
          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              job_id = id;
              waitForJob(job_id, (finalStatus) => {
                done();
              });
            });
          });
        });
      });
    });

    it('should complete all previous steps', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.validate_bag, 'status', 'skipped', 'bag validation should fail with "skipped" because of added metadata files');
        assert.propertyVal(response.steps.validate_compendium, 'status', 'success');
        assert.propertyVal(response.steps.image_prepare, 'status', 'success');
        done();
      });
    });

    it('should skip steps "generate_configuration" and "generate_manifest"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.generate_configuration, 'status', 'skipped');
        assert.propertyVal(response.steps.generate_manifest, 'status', 'skipped');
        done();
      });
    });

    it('should complete step "image_build"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_build, 'status', 'success');
        done();
      });
    });

    it('should fail step "image_execute" with a status code "1"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id + '?steps=all', (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_execute, 'status', 'failure');
        done();
      });
    });

    it('should complete step "cleanup"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.cleanup, 'status', 'success');
        done();
      });
    });

  });

  describe('EXECUTION step_image_execute', () => {
    let job_id = '';

    before(function (done) {
      this.timeout(90000);
      createCompendiumPostRequest('./test/erc/step_image_execute', cookie_o2r, 'compendium', (req) => {
        request(req, (err, res, body) => {
          let compendium_id = compendiumId(body);
          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              job_id = id;
              waitForJob(job_id, (finalStatus) => {
                done();
              });
            });
          });
        });
      });
    });

    it('should complete step all previous steps (and skip bag validation)', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.validate_bag, 'status', 'skipped');
        assert.propertyVal(response.steps.validate_compendium, 'status', 'success');
        assert.propertyVal(response.steps.image_prepare, 'status', 'success');
        assert.propertyVal(response.steps.image_build, 'status', 'success');
        done();
      });
    });

    it('should complete step "image_execute"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_execute, 'status', 'success');
        done();
      });
    });

    it('should not have the display file in the file listing for the job (execute completes but does not generate a file)', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.notInclude(JSON.stringify(response.files), 'doc.html');
        assert.notInclude(JSON.stringify(response.files), 'wrongname.html');
        done();
      });
    });

    it('should fail step "check" and have empty images and display properties (depends on https://github.com/o2r-project/erc-checker/issues/8)', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id + '?steps=all', (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.check, 'status', 'failure');
        done();
      });
    });

    it('should have step "image_save" queued (failure in previous step)', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.image_save, 'status', 'queued');
        done();
      });
    });

    it('should complete step "cleanup"', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.cleanup, 'status', 'success');
        done();
      });
    });

  });

  describe('EXECUTION step_check', () => {
    let job_id, compendium_id, job_id2 = '';

    before(function (done) {
      this.timeout(360000); // takes quite long because of image saving and deleting compendium + image

      db.compendia.drop(function (err, doc) {
          createCompendiumPostRequest('./test/erc/step_check', cookie_o2r, 'compendium', (req) => {
            request(req, (err, res, body) => {
              compendium_id = compendiumId(body);
              publishCandidate(compendium_id, cookie_o2r, () => {
                startJob(compendium_id, id => {
                  job_id = id;
                  waitForJob(job_id, (finalStatus) => {
                        done();
                  });
                });
              });
            });
          });
      });
    });

    it('should complete specific steps', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.validate_compendium, 'status', 'success', 'validate compendium');
        assert.propertyVal(response.steps.generate_manifest, 'status', 'success', 'generate manifest');
        assert.propertyVal(response.steps.image_prepare, 'status', 'success', 'image prepare');
        assert.propertyVal(response.steps.image_build, 'status', 'success', 'image build');
        assert.propertyVal(response.steps.image_execute, 'status', 'success', 'image execute');
        assert.propertyVal(response.steps.image_save, 'status', 'success', 'image save');
        assert.propertyVal(response.steps.cleanup, 'status', 'success', 'cleanup');
        done();
      });
    });

    it('should skip specific steps', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.validate_bag, 'status', 'skipped', 'validate bag');
        assert.propertyVal(response.steps.generate_configuration, 'status', 'skipped', 'generate configuration');
        done();
      });
    });

    it('should complete step "check" but not have a display diff nor images', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id + '?steps=all', (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);
        assert.propertyVal(response.steps.check, 'status', 'success');
        done();
      });
    });

    it('should not have the image tarball in the job file listing', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.notInclude(JSON.stringify(response.files), 'image.tar');
        done();
      });
    });

  });

  describe('EXECUTION check with random result in figure', () => {
    let job_id = '';
    let compendium_id = '';

    before(function (done) {
      this.timeout(720000);
      createCompendiumPostRequest('./test/workspace/rmd-data-random', cookie_o2r, 'workspace', (req) => {
        request(req, (err, res, body) => {
          compendium_id = compendiumId(body);
          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              job_id = id;
              waitForJob(job_id, (finalStatus) => {
                done();
              });
            });
          });
        });
      });
    });

    it('should skip validate bag step', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.validate_bag, 'status', 'skipped');
        done();
      });
    });

    it('should have same start and end date for skipped step', (done) => {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.property(response.steps.validate_bag, 'start');
        assert.property(response.steps.validate_bag, 'end');
        assert.equal(response.steps.validate_bag.start, response.steps.validate_bag.end, 'skipped step validate bag has same date for start and end');
        done();
      });
    });

    it('should complete generate configuration, validate compendium, image build, image execute, and cleanup', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.generate_configuration, 'status', 'success');
        assert.propertyVal(response.steps.validate_compendium, 'status', 'success');
        assert.propertyVal(response.steps.image_build, 'status', 'success');
        assert.propertyVal(response.steps.image_execute, 'status', 'success');
        assert.propertyVal(response.steps.cleanup, 'status', 'success');
        done();
      });
    });

    it('should fail the step check', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.check, 'status', 'failure');
        done();
      });
    });

    it('should not have skipped the step image_save', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.image_save, 'status', 'success');
        done();
      });
    });

  });

  describe('EXECUTION check with random result in text', () => {
    let job_id = '';
    let compendium_id = '';

    before(function (done) {
      this.timeout(720000);
      createCompendiumPostRequest('./test/workspace/rmd-textdiff', cookie_o2r, 'workspace', (req) => {
        request(req, (err, res, body) => {
          compendium_id = compendiumId(body);
          publishCandidate(compendium_id, cookie_o2r, () => {
            startJob(compendium_id, id => {
              job_id = id;
              waitForJob(job_id, (finalStatus) => {
                done();
              });
            });
          });
        });
      });
    });

    it('should complete generate configuration, validate compendium, generate manifest, image build, image execute, and cleanup', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.generate_configuration, 'status', 'success');
        assert.propertyVal(response.steps.validate_compendium, 'status', 'success');
        assert.propertyVal(response.steps.generate_manifest, 'status', 'success');
        assert.propertyVal(response.steps.image_build, 'status', 'success');
        assert.propertyVal(response.steps.image_execute, 'status', 'success');
        assert.propertyVal(response.steps.cleanup, 'status', 'success');
        done();
      });
    });

    it('should fail the step check', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.check, 'status', 'failure');
        done();
      });
    });

    it('should complete the step image_save', function (done) {
      request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
        assert.ifError(err);
        let response = JSON.parse(body);

        assert.propertyVal(response.steps.image_save, 'status', 'success');
        done();
      });
    });

  });

  describe('API job step details filtering', () => {
    var job_id;

    before(function (done) {
      this.timeout(180000);
      db.compendia.drop(function (err, doc) {
        db.jobs.drop(function (err, doc) {
          createCompendiumPostRequest('./test/workspace/rmd-data', cookie_o2r, 'workspace', (req) => {
            request(req, (err, res, body) => {
              let compendium_id = compendiumId(body);
              publishCandidate(compendium_id, cookie_o2r, () => {
                startJob(compendium_id, id => {
                  job_id = id;
                  waitForJob(job_id, (finalStatus) => {
                    done();
                  });
                });
              });
            });
          });
        });
      });
    });

    describe('GET /api/v1/job when "steps" is missing', () => {
      it('should return only status, start and end', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id, (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200, 'status code OK');
          assert.isObject(JSON.parse(body), 'returned JSON');
          let response = JSON.parse(body);

          assert.property(response, 'steps');
          Object.entries(response.steps).forEach(([step, value], index, array) => {
            assert.property(value, 'status', step + ' has status');
            assert.property(value, 'start', step + ' has start');
            assert.property(value, 'end', step + ' has end');
            assert.notProperty(value, 'text', step + ' does not have text');
            assert.notProperty(value, 'statuscode', step + ' does not have statuscode');
            assert.notProperty(value, 'images', step + ' does not have images');
            assert.notProperty(value, 'manifest', step + ' does not have manifest');
          });

          done();
        });
      });
    });

    describe('GET /api/v1/job when "steps=all"', () => {
      it('should return all details', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id + '?steps=all', (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200);
          assert.isObject(JSON.parse(body), 'returned JSON');
          let response = JSON.parse(body);

          assert.property(response, 'steps');
          Object.entries(response.steps).forEach(([step, value], index, array) => {
            assert.property(value, 'status', step + ' has status');
            assert.property(value, 'start', step + ' has start');
            assert.property(value, 'end'), step + ' has end';
            assert.property(value, 'text', step + ' has text');
          });


          done();
        });
      });
    });

    describe('GET /api/v1/job for one selected step', () => {
      it('should give status, start and end but full details for the step', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id + '?steps=generate_manifest', (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200);
          assert.isObject(JSON.parse(body), 'returned JSON');
          let response = JSON.parse(body);

          assert.property(response, 'steps');
          Object.entries(response.steps).forEach(([step, value], index, array) => {
            assert.property(value, 'status', step + ' has status');
            assert.property(value, 'start', step + ' has start');
            assert.property(value, 'end'), step + ' has end';
            if (step != 'generate_manifest') assert.notProperty(value, 'text', step + ' does not have text');
          });

          assert.property(response.steps.generate_manifest, 'text');

          done();
        });
      });
    });

    describe('GET /api/v1/job with trailing slash and without', () => {
      it('should just work', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id + '/?steps=validate_bag', (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200);
          assert.isObject(JSON.parse(body), 'returned JSON');
          let responseWith = JSON.parse(body);

          request(global.test_host + '/api/v1/job/' + job_id + '?steps=validate_bag', (err, res, body) => {
            assert.ifError(err);
            assert.equal(res.statusCode, 200);
            assert.isObject(JSON.parse(body), 'returned JSON');
            let responseWithout = JSON.parse(body);

            assert.property(responseWith.steps.validate_bag, 'status');
            assert.property(responseWithout.steps.validate_bag, 'status');
            assert.property(responseWith.steps.validate_bag, 'text');
            assert.property(responseWithout.steps.validate_bag, 'text');

            assert.notProperty(responseWith.steps.validate_compendium, 'text');
            assert.notProperty(responseWithout.steps.validate_compendium, 'text');

            done();
          });
        });
      });
    });

    describe('GET /api/v1/job with two selected steps', () => {
      it('should give status, start and end for all steps, but full details for two selected steps', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id + '?steps=check,cleanup', (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200);
          assert.isObject(JSON.parse(body), 'returned JSON');
          let response = JSON.parse(body);

          assert.property(response, 'steps');
          Object.entries(response.steps).forEach(([step, value], index, array) => {
            assert.property(value, 'status', step + ' has status');
            assert.property(value, 'start', step + ' has start');
            assert.property(value, 'end'), step + ' has end';
            if (!['check', 'cleanup'].includes(step)) {
              assert.notProperty(value, 'text', step + ' does not have text');
            }
          });

          assert.property(response.steps.check, 'text');
          assert.property(response.steps.cleanup, 'text');

          done();
        });
      });
    });

    describe('GET /api/v1/job with two existing steps and one unknown', () => {
      it('should give status, start and end for all steps, but full details for two selected steps', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id + '?steps=check,cleanup,oneGiantLeap', (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200);
          assert.isObject(JSON.parse(body), 'returned JSON');
          let response = JSON.parse(body);

          assert.property(response, 'steps');
          Object.entries(response.steps).forEach(([step, value], index, array) => {
            assert.property(value, 'status', step + ' has status');
            assert.property(value, 'start', step + ' has start');
            assert.property(value, 'end'), step + ' has end';
            if (!['check', 'cleanup'].includes(step)) {
              assert.notProperty(value, 'text', step + ' does not have text');
            }
          });

          assert.property(response.steps.check, 'text');
          assert.property(response.steps.cleanup, 'text');

          done();
        });
      });
    });

    describe('GET /api/v1/job with unknown steps parameter', () => {
      it('should have the default behaviour', (done) => {
        request(global.test_host + '/api/v1/job/' + job_id + '?steps=none', (err, res, body) => {
          assert.ifError(err);
          assert.equal(res.statusCode, 200, 'status code OK');
          assert.isObject(JSON.parse(body), 'returned JSON');
          let response = JSON.parse(body);

          assert.property(response, 'steps');
          Object.entries(response.steps).forEach(([step, value], index, array) => {
            assert.property(value, 'status', step + ' has status');
            assert.property(value, 'start', step + ' has start');
            assert.property(value, 'end'), step + ' has end';
            assert.notProperty(value, 'text', step + ' does not have text');
            assert.notProperty(value, 'statuscode', step + ' does not have statuscode');
            assert.notProperty(value, 'images', step + ' does not have images');
            assert.notProperty(value, 'manifest', step + ' does not have manifest');
          });

          done();
        });
      });
    });
  });
});
