// Loaded before o2r's test files (mocha --require): where the gateway is,
// how often jobs are polled, a count of the assertions that ran, and the
// stand-in executor, started before the first test and stopped after the
// last. Replaces o2r's test/setup.js, which loads users and sessions into
// MongoDB and pre-builds Docker images: Arca has neither.
const chai = require('chai');
const executor = require('./executor');

global.test_host = process.env.TEST_HOST;
global.test_job_poll_interval = parseInt(process.env.TEST_JOB_POLL_INTERVAL) || 200;

let assertions = 0;
for (const [name, fn] of Object.entries(chai.assert)) {
  if (typeof fn !== 'function') continue;
  chai.assert[name] = function (...args) {
    assertions++;
    return fn.apply(this, args);
  };
}

exports.mochaHooks = {
  beforeAll() {
    executor.start();
  },
  async afterAll() {
    await executor.stop();
    console.log(`o2r assertions checked: ${assertions}`);
  },
};
