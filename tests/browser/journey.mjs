// PrimeHub's journey in a real headless Chromium: the jobs list, a finished
// job's Artifacts tab with both files and their sizes, a download that
// yields "hello", the tab disabled while a job runs, a job with no
// artifacts, a missing job, and the page at phone width.
// Usage: node journey.mjs BASE_URL DONE_JOB EMPTY_JOB RUNNING_JOB SCREENSHOT.png
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, done, empty, running, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
let passed = 0;
let failed = 0;
async function check(name, fn) {
  const page = await browser.newPage({ acceptDownloads: true });
  // A deadline, not a wait: generous, for a shared machine under load.
  page.setDefaultTimeout(90_000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  try {
    await fn(page);
    assert.deepEqual(problems, [], 'the page threw');
    passed++;
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e.message}`);
  } finally {
    await page.close();
  }
}
const rows = (page) => page.locator('.panel tbody tr').evaluateAll(
  (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent.trim())));

await check('the jobs list shows every job, newest first', async (page) => {
  await page.goto(`${base}/`);
  await page.locator(`a[href="#/job/${running}"]`).waitFor();
  const ids = await page.locator('tbody a.mono').allTextContents();
  assert.deepEqual(ids, [running, empty, done]);
  await page.selectOption('select', 'success');
  await page.locator(`a[href="#/job/${running}"]`).waitFor({ state: 'detached' });
  await page.locator(`a[href="#/job/${done}"]`).waitFor();
  assert.deepEqual(await page.locator('tbody a.mono').allTextContents(), [empty, done]);
});

await check('a finished job: Artifacts tab, sizes, a download of "hello"', async (page) => {
  await page.goto(`${base}/#/job/${done}`);
  const tab = page.getByRole('tab', { name: /^Artifacts/ });
  await tab.waitFor();
  assert.equal(await tab.isEnabled(), true);
  assert.equal(await tab.textContent(), 'Artifacts (2)');
  await tab.click();
  await page.locator('.panel tbody tr').first().waitFor();
  assert.deepEqual(await rows(page), [['sub/test.txt', '6 B'], ['test.txt', '6 B']]);
  await page.screenshot({ path: screenshot, fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'test.txt', exact: true }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'test.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'hello\n');
  await page.getByRole('tab', { name: 'Steps' }).click();
  assert.deepEqual((await rows(page)).map((r) => r[0]), ['prepare', 'execute', 'collect']);
});

await check('a running job: the Artifacts tab is disabled', async (page) => {
  await page.goto(`${base}/#/job/${running}`);
  const tab = page.getByRole('tab', { name: /^Artifacts/ });
  await tab.waitFor();
  assert.equal(await tab.isDisabled(), true);
  assert.match(await page.locator('.sub .badge').textContent(), /running/);
});

await check('a job with no artifacts says so', async (page) => {
  await page.goto(`${base}/#/job/${empty}`);
  await page.getByRole('tab', { name: /^Artifacts/ }).click();
  await page.getByText('This job collected no artifacts.').waitFor();
});

await check('a job that does not exist is an error, not a blank page', async (page) => {
  await page.goto(`${base}/#/job/job-nope`);
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').textContent(), 'No job job-nope.');
});

await check('the job page fits a phone', async (page) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(`${base}/#/job/${done}`);
  await page.getByRole('tab', { name: /^Artifacts/ }).click();
  await page.locator('.panel tbody tr').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow}px wider than the screen`);
});

await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
