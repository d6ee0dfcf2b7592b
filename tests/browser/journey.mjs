// The web page in a real headless Chromium, as its users meet it: the jobs
// list; a finished job's artifacts as a folder tree with sizes, filtering,
// paging, previews and downloads (one file, or all as a zip); every view at
// its own URL, back and forward included; a running job that refreshes
// itself and opens its Artifacts tab when it ends; signing in with a token;
// errors for people; the page at phone width.
// Usage: node journey.mjs BASE DONE_JOB EMPTY_JOB LIVE_JOB LIVE_STOP_FILE BIG_JOB
//          SECURED_BASE TOKEN BROKEN_BASE SCREENSHOT_DIR
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, done, empty, live, liveStop, big, secured, token, broken, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
let passed = 0;
let failed = 0;
async function check(name, fn, viewport) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: viewport || { width: 1280, height: 900 } });
  const page = await context.newPage();
  // A deadline, not a wait: generous, for a shared machine under load.
  page.setDefaultTimeout(90_000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) problems.push(m.text()); });
  try {
    await fn(page);
    assert.deepEqual(problems, [], 'the page threw or broke its policy');
    passed++;
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e.stack}`);
  } finally {
    await context.close();
  }
}
// The first two cells of each row of the panel's table.
const rows = (page) => page.locator('.panel tbody tr').evaluateAll(
  (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent.trim())));
const hash = (page) => page.evaluate(() => location.hash);

await check('the jobs list shows every job with its name, newest first', async (page) => {
  await page.goto(`${base}/`);
  await page.locator(`a[href="#/job/${big}"]`).waitFor();
  const ids = await page.locator('tbody a.mono').allTextContents();
  assert.deepEqual(ids, [big, live, empty, done]);
  assert.equal(await page.locator('tbody tr').first().locator('.job-name').textContent(), 'many files');
  await page.selectOption('select', 'success');
  await page.locator(`a[href="#/job/${live}"]`).waitFor({ state: 'detached' });
  await page.locator(`a[href="#/job/${done}"]`).waitFor();
  assert.deepEqual(await page.locator('tbody a.mono').allTextContents(), [big, empty, done]);
  assert.equal(await hash(page), '#/?status=success&page=1');
  const icon = await page.request.get(`${base}/favicon.ico`);
  assert.equal(icon.headers()['content-type'], 'image/svg+xml');
});

await check('a finished job: a folder tree with sizes, downloads of a file and of all as a zip', async (page) => {
  await page.goto(`${base}/#/job/${done}`);
  await page.getByRole('tab', { name: 'Artifacts' }).click();
  await page.locator('.panel tbody tr').first().waitFor();
  assert.equal(await hash(page), `#/job/${done}/artifacts`);
  assert.deepEqual(await rows(page), [['▸sub/ 1 file', '6 B'], ['test.txt', '6 B']]);
  assert.equal(await page.locator('.summary').textContent(), '2 files · 12 B');
  await page.getByRole('button', { name: 'Expand sub' }).click();
  assert.deepEqual(await rows(page), [['▾sub/ 1 file', '6 B'], ['test.txt', '6 B'], ['test.txt', '6 B']]);
  await page.getByRole('button', { name: 'Collapse sub' }).click();
  assert.equal((await rows(page)).length, 2);
  await page.screenshot({ path: `${shots}/job-page.png`, fullPage: true });

  const [zip] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all (zip)' }).click()]);
  assert.equal(zip.suggestedFilename(), `${done}.zip`);
  const listing = execFileSync('unzip', ['-Z1', await zip.path()], { encoding: 'utf8' });
  assert.deepEqual(listing.trim().split('\n').sort(), ['sub/test.txt', 'test.txt']);

  await page.getByRole('link', { name: 'test.txt', exact: true }).click();
  await page.locator('.preview pre').waitFor();
  assert.equal(await hash(page), `#/job/${done}/file/test.txt`);
  assert.equal(await page.locator('.preview pre').textContent(), 'hello\n');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download', exact: true }).click()]);
  assert.equal(download.suggestedFilename(), 'test.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'hello\n');

  // Back to the tree, forward to the file, and the Steps tab.
  await page.goBack();
  await page.getByRole('link', { name: 'sub/' }).waitFor();
  assert.equal(await hash(page), `#/job/${done}/artifacts`);
  await page.goForward();
  await page.locator('.preview pre').waitFor();
  await page.getByRole('tab', { name: 'Steps' }).click();
  await page.getByRole('cell', { name: 'collect', exact: true }).waitFor();
  assert.deepEqual((await rows(page)).map((r) => r[0]), ['prepare', 'execute', 'collect']);
  assert.equal(await hash(page), `#/job/${done}`);
  await page.getByRole('tab', { name: 'Log' }).click();
  await page.locator('pre.log').filter({ hasNotText: 'Loading…' }).waitFor();
  assert.equal(await hash(page), `#/job/${done}/log`);
});

await check('301 files in a folder: paging, a filter kept in the URL, a folder link', async (page) => {
  await page.goto(`${base}/#/job/${big}/artifacts/many`);
  await page.locator('.pager').waitFor();
  assert.equal(await page.locator('.summary').textContent(), '301 files · 2.5 KiB');
  assert.equal(await page.locator('.panel tbody tr').count(), 100);
  assert.match(await page.locator('.pager span').textContent(), /301 rows · page 1 of 4/);
  await page.getByRole('button', { name: 'Next →' }).click();
  assert.equal((await rows(page))[0][0], 'part-100.txt');
  assert.equal(await hash(page), `#/job/${big}/artifacts/many?page=2`);
  await page.getByRole('searchbox', { name: 'Filter files' }).fill('part-29');
  assert.deepEqual((await rows(page)).map((r) => r[0]),
    Array.from({ length: 10 }, (_, i) => `part-29${i}.txt`));
  assert.equal(await hash(page), `#/job/${big}/artifacts/many?q=part-29`);
  await page.reload();
  await page.locator('.panel tbody tr').first().waitFor();
  assert.equal((await rows(page)).length, 10);
  assert.equal(await page.getByRole('searchbox', { name: 'Filter files' }).inputValue(), 'part-29');
  await page.getByRole('searchbox', { name: 'Filter files' }).fill('nothing-like-this');
  await page.getByText('No file matches “nothing-like-this”.').waitFor();
  await page.getByRole('link', { name: 'artifacts', exact: true }).click();
  await page.getByRole('link', { name: 'many/' }).waitFor();
  assert.match(await page.locator('.summary').textContent(), /^308 files · 35\d KiB$/);
  assert.ok(!/null|undefined/.test(await page.locator('main').textContent()), 'a stray null on the page');
  // The highly sensitive file says so.
  const secret = page.locator('.panel tbody tr').filter({ hasText: 'secret.txt' });
  assert.equal(await secret.locator('.badge.privacy').textContent(), 'highly sensitive');
  await page.screenshot({ path: `${shots}/artifacts.png`, fullPage: true });
});

await check('previews: CSV as a table, JSON, an image, a PDF, a long text by its start, HTML sandboxed', async (page) => {
  await page.goto(`${base}/#/job/${big}/file/data/table.csv`);
  await page.locator('table.csv').waitFor();
  assert.deepEqual(await page.locator('table.csv th').allTextContents(), ['city', 'population, 2020']);
  assert.deepEqual(await page.locator('table.csv tbody td').allTextContents(), ['Oslo', '709037', 'Bergen, Vestland', '285911']);

  await page.goto(`${base}/#/job/${big}/file/data/info.json`);
  await page.locator('.preview pre').waitFor();
  assert.equal(await page.locator('.preview pre').textContent(), '{\n  "model": "resnet",\n  "epochs": 3\n}');

  await page.goto(`${base}/#/job/${big}/file/plot.png`);
  const img = page.locator('.preview img');
  await img.waitFor();
  await page.waitForFunction(() => document.querySelector('.preview img').complete);
  assert.equal(await img.evaluate((i) => i.naturalWidth), 8);

  await page.goto(`${base}/#/job/${big}/file/data/paper.pdf`);
  const pdf = page.locator('.preview iframe.pdf');
  await pdf.waitFor();
  assert.match(await pdf.getAttribute('src'), /^blob:/);

  await page.goto(`${base}/#/job/${big}/file/big.txt`);
  await page.getByText(/^Showing the first 256 KiB of 352 KiB/).waitFor();
  const text = await page.locator('.preview pre').textContent();
  assert.equal(text.length, 256 << 10);
  assert.ok(text.startsWith('line 000000\n'));

  await page.goto(`${base}/#/job/${big}/file/report.html`);
  const frame = page.locator('.preview iframe.html');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), '');
  await page.frameLocator('.preview iframe.html').getByRole('heading', { name: 'Report' }).waitFor();
  // Another origin, and its script did not run.
  assert.equal(await frame.evaluate((f) => f.contentDocument), null);
  assert.equal(await page.title(), 'Arca');
  await page.screenshot({ path: `${shots}/preview.png` });
});

await check('a running job shows its output live, refreshes itself and opens its Artifacts tab when it ends', async (page) => {
  await page.goto(`${base}/#/job/${live}`);
  const tab = page.getByRole('tab', { name: 'Artifacts' });
  await tab.waitFor();
  assert.equal(await tab.isDisabled(), true);
  assert.match(await page.locator('.sub .badge').textContent(), /running/);
  // Its output so far, while it runs.
  await page.getByRole('tab', { name: 'Log' }).click();
  await page.locator('pre.log.live').filter({ hasText: 'warming up' }).waitFor();
  writeFileSync(liveStop, '');
  await page.locator('.sub .badge.success').waitFor();
  assert.equal(await tab.isEnabled(), true);
  await tab.click();
  await page.getByRole('link', { name: 'result.txt' }).waitFor();
});

await check('a job with no artifacts, and one that does not exist', async (page) => {
  await page.goto(`${base}/#/job/${empty}/artifacts`);
  await page.getByText('This job collected no artifacts.').waitFor();
  await page.goto(`${base}/#/job/job-nope`);
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').textContent(), 'No job job-nope.');
});

await check('a gateway with tokens: a masked sign-in kept for the tab, downloads with it, sign-out', async (page) => {
  await page.goto(`${secured}/#/job/${done}/artifacts`);
  const field = page.getByLabel('Access token');
  await field.waitFor();
  assert.equal(await field.getAttribute('type'), 'password');
  assert.match(await hash(page), /^#\/signin\?next=/);
  await field.fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That token was not accepted. Check it and try again.').waitFor();
  await field.fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Back where the visit began.
  await page.getByRole('link', { name: 'test.txt', exact: true }).waitFor();
  assert.equal(await hash(page), `#/job/${done}/artifacts`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('arca-token')), token);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  const [zip] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all (zip)' }).click()]);
  assert.deepEqual(execFileSync('unzip', ['-Z1', await zip.path()], { encoding: 'utf8' }).trim().split('\n').sort(),
    ['sub/test.txt', 'test.txt']);
  await page.reload();
  await page.getByRole('link', { name: 'test.txt', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Access token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('arca-token')), null);
});

await check('a backend that is down: what failed and what to do, no addresses', async (page) => {
  await page.goto(`${broken}/`);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.textContent(), 'Arca is not answering right now (catalog is unavailable; try again in a moment).');
  await page.getByRole('button', { name: 'Try again' }).waitFor();
});

await check('at phone width each job keeps its name and status, and nothing overflows', async (page) => {
  await page.goto(`${base}/`);
  const first = page.locator('tbody tr').first();
  await first.waitFor();
  assert.equal(await first.locator('.job-name').isVisible(), true);
  assert.equal(await first.locator('.badge').isVisible(), true);
  for (const url of [`${base}/`, `${base}/#/job/${big}/artifacts`, `${base}/#/job/${big}/file/data/table.csv`]) {
    await page.goto(url);
    await page.locator('main table').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${url}: ${overflow}px wider than the screen`);
  }
  await page.goto(`${base}/#/job/${big}/artifacts`);
  await page.locator('.panel tbody tr').first().waitFor();
  await page.screenshot({ path: `${shots}/phone.png`, fullPage: true });
}, { width: 390, height: 844 });

await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
