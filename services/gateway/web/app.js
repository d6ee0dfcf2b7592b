// Arca's web page: a jobs list and a job page (steps, log, artifacts), from
// /graphql as PrimeHub's client does and the gateway's REST routes. No
// framework, no build step. Every view has its own URL (#/...), so views
// can be linked and back and forward work.
'use strict';

const app = document.getElementById('app');
const PAGE = 20;        // jobs per page
const ROWS = 100;       // rows of files per page
const PREVIEW = 256 << 10;  // text previews read the first 256 KiB

// ------------------------------------------------------------ sign-in

// A bearer token, when the gateway asks for one: kept for this tab only.
let token = sessionStorage.getItem('arca-token') || '';
const account = document.getElementById('account');
function showAccount() {
  const asked = sessionStorage.getItem('arca-needs-token') === 'yes';
  fill(account, token
    ? el('button', { class: 'link', type: 'button', onclick: signOut }, 'Sign out')
    : asked && !location.hash.startsWith('#/signin')
      ? el('a', { href: `#/signin?next=${encodeURIComponent(location.hash || '#/')}` }, 'Sign in') : '');
}
function signOut() {
  token = '';
  sessionStorage.removeItem('arca-token');
  showAccount();
  location.hash = '#/signin';
}

function signInPage(params) {
  const next = params.get('next') || '#/';
  const field = el('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true,
    'aria-describedby': 'token-help' });
  const note = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = el('form', { class: 'card signin', onsubmit: async (e) => {
    e.preventDefault();
    const candidate = field.value.trim();
    note.hidden = true;
    try {
      await gql('{ phJobs(limit: 1) { hasNextPage } }', {}, candidate);
    } catch (err) {
      note.textContent = err.status === 401 ? 'That token was not accepted. Check it and try again.' : explain(err);
      note.hidden = false;
      return;
    }
    token = candidate;
    sessionStorage.setItem('arca-token', token);
    showAccount();
    location.hash = next.startsWith('#/signin') ? '#/' : next;
  } },
  el('h1', {}, 'Sign in'),
  el('label', { for: 'token' }, 'Access token'), field,
  el('p', { id: 'token-help', class: 'sub' }, 'The token your Arca operator gave you. It is kept in this tab only, until you sign out or close it.'),
  note,
  el('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  show(form);
  field.focus();
}

// ------------------------------------------------------------ requests

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function headers(extra, withToken = token) {
  const h = Object.assign({}, extra);
  if (withToken) h.Authorization = 'Bearer ' + withToken;
  return h;
}

// Reads (GETs and GraphQL queries) that meet a moment's unavailability (no
// answer, 502, 503, 504) are tried again, 0.5, 1 and 2 s apart.
async function request(url, options = {}, withToken = token) {
  const again = (options.method || 'GET') === 'GET' || options.retry;
  let res;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(url, Object.assign({}, options, { headers: headers(options.headers, withToken) }));
    } catch (e) {
      res = null;
    }
    const transient = res === null || [502, 503, 504].includes(res.status);
    if (!transient || !again || attempt === 3) break;
    await new Promise((r) => setTimeout(r, 500 << attempt));
  }
  if (res === null) throw new HttpError(0, 'the gateway could not be reached');
  if (!res.ok && res.status !== 206) {
    let message = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      message = body.errors?.[0]?.message || body.error || message;
    } catch (e) { /* not JSON */ }
    throw new HttpError(res.status, message);
  }
  return res;
}

async function gql(query, variables, withToken = token) {
  for (let attempt = 0; ; attempt++) {
    const res = await request('/graphql', {
      method: 'POST',
      retry: true,  // queries only: reading twice is harmless
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    }, withToken);
    const body = await res.json();
    if (!body.errors || !body.errors.length) return body.data;
    const code = body.errors[0].extensions?.code;
    // A backend that did not answer this once (GraphQL says so in a 200).
    if ((code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED') && attempt < 3) {
      await new Promise((r) => setTimeout(r, 500 << attempt));
      continue;
    }
    throw new HttpError(code === 'UNAVAILABLE' ? 503 : code === 'DEADLINE_EXCEEDED' ? 504 : code === 'NOT_FOUND' ? 404 : 200,
      body.errors[0].message);
  }
}

// What failed and what to do, for people.
function explain(err) {
  switch (err.status) {
    case 0: return 'The Arca gateway could not be reached. Check your connection and try again.';
    case 403: return `Your token does not allow this (${err.message}).`;
    case 404: return `Not found: ${err.message}.`;
    case 502: case 503: case 504:
      return `Arca is not answering right now (${err.message}).`;
    default:
      return err.status >= 500
        ? `Something went wrong on the server (HTTP ${err.status}). Try again; if it keeps happening, tell your Arca operator.`
        : err.message;
  }
}

function failure(where, err, retry) {
  if (err.status === 401) {
    sessionStorage.setItem('arca-needs-token', 'yes');
    if (token) {  // no longer accepted
      token = '';
      sessionStorage.removeItem('arca-token');
    }
    location.hash = `#/signin?next=${encodeURIComponent(location.hash || '#/')}`;
    return;
  }
  const parts = [el('p', { class: 'state error', role: 'alert' }, explain(err))];
  if (retry) parts.push(el('p', { class: 'state' }, el('button', { onclick: retry }, 'Try again')));
  fill(where, ...parts);
}

// A download: a plain link, or with a token, fetched and handed over.
function downloadLink(url, name, label, attrs = {}) {
  const a = el('a', Object.assign({ href: url, download: name }, attrs), label);
  a.addEventListener('click', async (e) => {
    if (!token) return;
    e.preventDefault();
    try {
      const blob = await (await request(url)).blob();
      const href = URL.createObjectURL(blob);
      const tmp = el('a', { href, download: name });
      document.body.append(tmp); tmp.click(); tmp.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch (err) {
      alert(`The download failed. ${explain(err)}`);
    }
  });
  return a;
}

// ------------------------------------------------------------ helpers

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'style') Object.assign(e.style, v);  // CSSOM: the page's CSP forbids style attributes
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

const badge = (status) => el('span', { class: `badge ${status}` }, status);
const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
const enc = (path) => path.split('/').map(encodeURIComponent).join('/');

// Puts nodes in place of where's children; null ones are left out.
function fill(where, ...nodes) { where.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined)); }
function show(...nodes) { fill(app, ...nodes); }
function loading(where) { fill(where, el('p', { class: 'state' }, 'Loading…')); }

function pager(page, pages, go, what) {
  if (pages <= 1) return null;
  return el('div', { class: 'pager' },
    el('button', { disabled: page <= 1, onclick: () => go(page - 1) }, '← Previous'),
    el('span', {}, `${what} · page ${page} of ${pages}`),
    el('button', { disabled: page >= pages, onclick: () => go(page + 1) }, 'Next →'));
}

// ------------------------------------------------------------ jobs list

async function jobsPage(params) {
  const status = params.get('status') || '';
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  const filter = el('select', { 'aria-label': 'Status', onchange: (e) => go({ status: e.target.value, page: 1 }) },
    ['', 'queued', 'running', 'success', 'failure'].map((s) =>
      el('option', { value: s, selected: s === status }, s || 'all statuses')));
  const body = el('div', { class: 'card' });
  show(el('h1', {}, 'Jobs'), el('div', { class: 'toolbar' }, filter), body);
  loading(body);
  function go(p) { location.hash = '#/?' + new URLSearchParams(p).toString(); }
  try {
    const data = await gql(`query Jobs($where: PhJobWhereInput, $limit: Int, $page: Int) {
        phJobs(where: $where, limit: $limit, page: $page) {
          items { id name group status createdAt } hasNextPage } }`,
      { where: status ? { status } : null, limit: PAGE, page });
    const jobs = data.phJobs.items;
    if (!jobs.length) {
      fill(body, el('p', { class: 'state' },
        status ? `No ${status} jobs.` : 'No jobs yet. Run one with: arca run -- your command'));
    } else {
      fill(body, el('table', { class: 'jobs' },
        el('thead', {}, el('tr', {}, el('th', {}, 'Job'), el('th', { class: 'hide-narrow' }, 'Group'),
          el('th', {}, 'Status'), el('th', { class: 'hide-narrow' }, 'Created'))),
        el('tbody', {}, jobs.map((j) => el('tr', {},
          el('td', {}, j.name ? el('div', { class: 'job-name' }, j.name) : null,
            el('a', { class: 'mono', href: `#/job/${encodeURIComponent(j.id)}` }, j.id)),
          el('td', { class: 'hide-narrow' }, j.group),
          el('td', {}, badge(j.status)),
          el('td', { class: 'hide-narrow' }, when(j.createdAt)))))));
    }
    app.append(el('div', { class: 'pager' },
      el('button', { disabled: page <= 1, onclick: () => go({ status, page: page - 1 }) }, '← Newer'),
      el('span', {}, `Page ${page}`),
      el('button', { disabled: !data.phJobs.hasNextPage, onclick: () => go({ status, page: page + 1 }) }, 'Older →')));
  } catch (err) {
    failure(body, err, () => jobsPage(params));
  }
}

// ------------------------------------------------------------- job page

const JOB_QUERY = `query Job($id: ID!) { phJob(where: {id: $id}) {
    id name group status finished createdAt finishedAt
    steps { name status start end text }
    logs { name size downloadUrl } } }`;

// Every file of a job, page by page (REST: tens of thousands stay cheap).
async function jobFiles(id) {
  const files = [];
  let pageToken = '';
  do {
    const res = await request(`/api/v1/job/${encodeURIComponent(id)}/files?page_size=1000` +
      (pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''));
    const body = await res.json();
    files.push(...body.files);
    pageToken = body.next_page_token || '';
  } while (pageToken);
  return files.filter((f) => !f.path.startsWith('.arca/logs/'));
}

// The view a route names: steps, log, artifacts (a folder) or one file.
async function jobPage(id, view, rest, params) {
  const serial = routeSerial;
  const body = el('div');
  show(el('p', {}, el('a', { href: '#/' }, '← Jobs')), body);
  loading(body);
  let job;
  try {
    job = (await gql(JOB_QUERY, { id })).phJob;
  } catch (err) {
    if (err.status === 404) {
      fill(body, el('p', { class: 'state error', role: 'alert' }, `No job ${id}.`));
    } else {
      failure(body, err, () => jobPage(id, view, rest, params));
    }
    return;
  }
  const header = el('div');
  const tabs = el('div', { class: 'tabs', role: 'tablist' });
  const panel = el('div', { class: 'panel card', role: 'tabpanel' });
  fill(body, header, tabs, panel);
  const base = `#/job/${encodeURIComponent(id)}`;

  function renderHeader() {
    fill(header, 
      el('h1', {}, job.name || job.id),
      el('p', { class: 'sub' }, badge(job.status), ' ', job.name ? el('span', { class: 'mono' }, job.id) : null,
        job.name ? ' · ' : '', `group ${job.group} · created ${when(job.createdAt)}`,
        job.finishedAt ? ` · finished ${when(job.finishedAt)}` : ''));
    const names = { steps: 'Steps', log: 'Log', artifacts: 'Artifacts' };
    fill(tabs, ...Object.entries(names).map(([key, label]) => {
      const selected = key === view || (key === 'artifacts' && view === 'file');
      const disabled = key === 'artifacts' && !job.finished;
      return el('button', {
        role: 'tab', type: 'button', 'aria-selected': String(selected), disabled,
        title: disabled ? 'Artifacts are collected when the job finishes' : null,
        onclick: () => { location.hash = key === 'steps' ? base : `${base}/${key}`; },
      }, label);
    }));
  }

  function stepsView() {
    return job.steps.length
      ? el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Step'), el('th', {}, 'Status'),
          el('th', { class: 'hide-narrow' }, 'Started'), el('th', { class: 'hide-narrow' }, 'Ended'), el('th', {}, 'Detail'))),
        el('tbody', {}, job.steps.map((s) => el('tr', {}, el('td', {}, s.name), el('td', {}, badge(s.status)),
          el('td', { class: 'hide-narrow' }, when(s.start)), el('td', { class: 'hide-narrow' }, when(s.end)),
          el('td', { class: 'detail' }, s.text || '')))))
      : el('p', { class: 'state' }, 'No steps recorded yet.');
  }

  function logView() {
    if (!job.finished) {
      // arca run keeps the output's tail in the running step's text.
      const step = job.steps.find((s) => s.status === 'running' && s.text);
      const pre = el('pre', { class: 'log live' }, step ? step.text : '(no output yet)');
      setTimeout(() => { pre.scrollTop = pre.scrollHeight; });
      return el('div', {},
        el('p', { class: 'sub inset' }, 'The job is running: its latest output, refreshed as it comes. The whole log is kept when the job ends.'),
        pre);
    }
    if (!job.logs.length) return el('p', { class: 'state' }, 'No log was recorded for this job.');
    const log = job.logs[0];
    const pre = el('pre', { class: 'log' }, 'Loading…');
    const from = Math.max(0, log.size - PREVIEW);
    request(log.downloadUrl, from > 0 ? { headers: { Range: `bytes=${from}-` } } : {})
      .then((r) => r.text())
      .then((t) => {
        pre.textContent = t || '(the log is empty)';
        pre.scrollTop = pre.scrollHeight;
      })
      .catch((e) => { pre.textContent = `Could not load the log. ${explain(e)}`; });
    return el('div', {},
      el('div', { class: 'toolbar inset' },
        from > 0 ? el('span', { class: 'sub' }, `The last ${humanSize(log.size - from)} of ${humanSize(log.size)}.`) : null,
        downloadLink(log.downloadUrl, 'job.log', 'Download the log', { class: 'button' })),
      pre);
  }

  let files = null;  // loaded once, for the artifacts and file views
  async function filesView() {
    if (!job.finished) return el('p', { class: 'state' }, 'Artifacts are collected when the job finishes.');
    if (files === null) files = await jobFiles(id);
    return view === 'file' ? filePreview(id, files, rest) : artifactsView(id, files, rest, params);
  }

  async function render() {
    renderHeader();
    try {
      fill(panel, view === 'steps' ? stepsView() : view === 'log' ? logView() : await filesView());
    } catch (err) {
      failure(panel, err, render);
    }
  }
  await render();

  // A running job refreshes itself, sooner while it changes, at most every
  // 15 s while it does not; it stops when the page moves on.
  let delay = 2000;
  let last = JSON.stringify(job);
  while (!job.finished && serial === routeSerial) {
    await new Promise((r) => setTimeout(r, delay));
    if (serial !== routeSerial) return;
    try {
      const fresh = (await gql(JOB_QUERY, { id })).phJob;
      if (serial !== routeSerial) return;
      const text = JSON.stringify(fresh);
      if (text !== last) {
        job = fresh;
        last = text;
        delay = 2000;
        await render();
      } else {
        delay = Math.min(15000, delay * 1.5);
      }
    } catch (err) {
      delay = Math.min(15000, delay * 2);
    }
  }
}

// -------------------------------------------------------------- artifacts

// The files as a tree of folders, each with its total size and count.
function buildTree(files) {
  const root = { name: '', path: '', dirs: new Map(), files: [], size: 0, count: 0 };
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      node.size += f.size; node.count++;
      if (!node.dirs.has(parts[i])) {
        node.dirs.set(parts[i], { name: parts[i], path: parts.slice(0, i + 1).join('/'), dirs: new Map(), files: [], size: 0, count: 0 });
      }
      node = node.dirs.get(parts[i]);
    }
    node.size += f.size; node.count++;
    node.files.push(f);
  }
  return root;
}

const expanded = new Set();  // folders opened in place, by path

function artifactsView(id, files, dirPath, params) {
  const base = `#/job/${encodeURIComponent(id)}/artifacts`;
  if (!files.length) return el('p', { class: 'state' }, 'This job collected no artifacts.');
  const root = buildTree(files);
  let dir = root;
  for (const part of dirPath ? dirPath.split('/') : []) {
    dir = dir.dirs.get(part);
    if (!dir) return el('p', { class: 'state error', role: 'alert' }, `This job has no folder ${dirPath}.`);
  }
  let query = params.get('q') || '';
  let page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);

  const crumbs = el('nav', { class: 'crumbs', 'aria-label': 'Folder' },
    el('a', { href: base }, 'artifacts'),
    ...(dirPath ? dirPath.split('/') : []).flatMap((part, i, all) =>
      [' / ', el('a', { href: `${base}/${enc(all.slice(0, i + 1).join('/'))}` }, part)]));
  const filter = el('input', { type: 'search', placeholder: 'Filter by path', 'aria-label': 'Filter files', value: query });
  const zip = `/api/v1/job/${encodeURIComponent(id)}/artifacts.zip${dirPath ? `?path=${encodeURIComponent(dirPath)}` : ''}`;
  const summary = el('span', { class: 'summary' }, `${plural(dir.count, 'file', 'files')} · ${humanSize(dir.size)}`);
  const table = el('div');
  const holder = el('div', {},
    el('div', { class: 'toolbar inset' }, crumbs, summary),
    el('div', { class: 'toolbar inset' }, filter,
      downloadLink(zip, `${id}${dirPath ? '-' + dirPath.replaceAll('/', '-') : ''}.zip`,
        dirPath ? 'Download this folder (zip)' : 'Download all (zip)', { class: 'button' })),
    table);

  function setUrl() {
    const p = new URLSearchParams();
    if (query) p.set('q', query);
    if (page > 1) p.set('page', page);
    const url = `${base}${dirPath ? '/' + enc(dirPath) : ''}${p.toString() ? '?' + p : ''}`;
    history.replaceState(null, '', url);
  }

  // The rows on show: the folder's entries, opened folders' entries under
  // them; or, filtered, every file under the folder whose path matches.
  function rows() {
    if (query) {
      const q = query.toLowerCase();
      const prefix = dirPath ? dirPath + '/' : '';
      return files.filter((f) => f.path.startsWith(prefix) && f.path.toLowerCase().includes(q))
        .sort((a, b) => a.path.localeCompare(b.path))
        .map((f) => ({ file: f, depth: 0, label: f.path.slice(prefix.length) }));
    }
    const out = [];
    (function walk(node, depth) {
      for (const d of [...node.dirs.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        out.push({ dir: d, depth });
        if (expanded.has(d.path)) walk(d, depth + 1);
      }
      for (const f of node.files.sort((a, b) => a.path.localeCompare(b.path))) {
        out.push({ file: f, depth, label: f.path.split('/').pop() });
      }
    })(dir, 0);
    return out;
  }

  function draw() {
    const all = rows();
    const pages = Math.max(1, Math.ceil(all.length / ROWS));
    page = Math.min(page, pages);
    const shown = all.slice((page - 1) * ROWS, page * ROWS);
    if (!all.length) {
      fill(table, el('p', { class: 'state' }, `No file matches “${query}”.`));
      return;
    }
    fill(table, el('table', { class: 'files' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Name'), el('th', { class: 'num' }, 'Size'),
        el('th', { class: 'hide-narrow' }, 'Modified'))),
      el('tbody', {}, shown.map((r) => {
        const indent = { style: { paddingLeft: `${0.75 + r.depth * 1.25}rem` } };
        if (r.dir) {
          const open = expanded.has(r.dir.path);
          return el('tr', { class: 'folder' },
            el('td', indent,
              el('button', { class: 'toggle', type: 'button', 'aria-expanded': String(open),
                'aria-label': `${open ? 'Collapse' : 'Expand'} ${r.dir.name}`,
                onclick: () => { open ? expanded.delete(r.dir.path) : expanded.add(r.dir.path); draw(); } }, open ? '▾' : '▸'),
              el('a', { href: `${base}/${enc(r.dir.path)}` }, r.dir.name + '/'),
              el('span', { class: 'count' }, ` ${plural(r.dir.count, 'file', 'files')}`)),
            el('td', { class: 'num' }, humanSize(r.dir.size)),
            el('td', { class: 'hide-narrow' }, ''));
        }
        const f = r.file;
        return el('tr', {},
          el('td', indent,
            el('a', { class: 'mono', href: `#/job/${encodeURIComponent(id)}/file/${enc(f.path)}` }, r.label),
            f.privacyLevel && f.privacyLevel !== 'moderately_sensitive'
              ? el('span', { class: 'badge privacy', title: 'privacy level' }, f.privacyLevel.replace('_', ' ')) : null),
          el('td', { class: 'num' }, humanSize(f.size)),
          el('td', { class: 'hide-narrow' }, when(f.lastModified)));
      }))),
    pager(page, pages, (p) => { page = p; setUrl(); draw(); }, plural(all.length, 'row', 'rows')));
  }

  filter.addEventListener('input', () => {
    query = filter.value.trim();
    page = 1;
    setUrl();
    draw();
  });
  draw();
  return holder;
}

// --------------------------------------------------------------- previews

const TEXT = /\.(txt|log|md|out|err|ini|cfg|conf|toml|ya?ml|xml|py|r|sh|c|cc|cpp|h|hpp|js|mjs|ts|java|go|rs|sql|tex)$/i;
const IMAGES = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml' };

function filePreview(id, files, path) {
  const f = files.find((x) => x.path === path);
  if (!f) return el('p', { class: 'state error', role: 'alert' }, `This job has no file ${path}.`);
  const base = `#/job/${encodeURIComponent(id)}/artifacts`;
  const parts = path.split('/');
  const where = el('div', { class: 'preview' }, el('p', { class: 'state' }, 'Loading the preview…'));
  const holder = el('div', {},
    el('div', { class: 'toolbar inset' },
      el('nav', { class: 'crumbs', 'aria-label': 'Folder' }, el('a', { href: base }, 'artifacts'),
        ...parts.slice(0, -1).flatMap((part, i) => [' / ', el('a', { href: `${base}/${enc(parts.slice(0, i + 1).join('/'))}` }, part)]),
        ' / ', el('strong', {}, parts[parts.length - 1])),
      el('span', { class: 'summary' }, humanSize(f.size), f.privacyLevel !== 'moderately_sensitive' ? ` · ${f.privacyLevel.replace('_', ' ')}` : ''),
      downloadLink(f.downloadUrl, parts[parts.length - 1], 'Download', { class: 'button' })),
    where);
  preview(f, where).catch((err) => failure(where, err));
  return holder;
}

async function preview(f, where) {
  const ext = (f.path.match(/\.([^./]+)$/) || [])[1]?.toLowerCase() || '';
  const partial = f.size > PREVIEW;
  const note = partial ? el('p', { class: 'sub inset' }, `Showing the first ${humanSize(PREVIEW)} of ${humanSize(f.size)}. Download the file for all of it.`) : null;
  const text = async () => (await request(f.downloadUrl, partial ? { headers: { Range: `bytes=0-${PREVIEW - 1}` } } : {})).text();

  if (IMAGES[ext] || ext === 'pdf') {
    if (f.size > 50 << 20) {
      fill(where, el('p', { class: 'state' }, 'This file is too large to preview here; download it instead.'));
      return;
    }
    const blob = await (await request(f.downloadUrl)).blob();
    const url = URL.createObjectURL(new Blob([blob], { type: IMAGES[ext] || 'application/pdf' }));
    fill(where, ext === 'pdf'
      ? el('iframe', { class: 'pdf', src: url, title: f.path })
      : el('img', { src: url, alt: f.path }));
  } else if (ext === 'html' || ext === 'htm') {
    // Another origin (sandboxed, no scripts) under a strict policy: the
    // page cannot reach the API, run code or load anything.
    const csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
    const frame = el('iframe', { class: 'html', sandbox: '', title: f.path, referrerpolicy: 'no-referrer' });
    frame.srcdoc = `<meta http-equiv="Content-Security-Policy" content="${csp}">` + await text();
    fill(where, note, frame);
  } else if (ext === 'csv' || ext === 'tsv') {
    const rows = parseCsv(await text(), ext === 'tsv' ? '\t' : ',');
    if (partial && rows.length > 1) rows.pop();  // the last may be cut
    const [head, ...data] = rows;
    const shown = data.slice(0, 1000);
    fill(where, note, el('div', { class: 'scroll' }, el('table', { class: 'csv' },
      el('thead', {}, el('tr', {}, (head || []).map((h) => el('th', {}, h)))),
      el('tbody', {}, shown.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))))),
    data.length > shown.length ? el('p', { class: 'sub inset' }, `The first 1,000 of ${data.length.toLocaleString()} rows.`) : null);
  } else if (ext === 'json') {
    let t = await text();
    if (!partial) { try { t = JSON.stringify(JSON.parse(t), null, 2); } catch (e) { /* shown as it is */ } }
    fill(where, note, el('pre', { class: 'log' }, t));
  } else if (TEXT.test(f.path) || !ext) {
    fill(where, note, el('pre', { class: 'log' }, (await text()) || '(the file is empty)'));
  } else {
    fill(where, el('p', { class: 'state' }, 'No preview for this kind of file; download it to open it.'));
  }
}

// RFC 4180: quoted fields, doubled quotes, newlines inside quotes.
function parseCsv(text, sep) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// --------------------------------------------------------------- routes

let routeSerial = 0;
function route() {
  routeSerial++;
  showAccount();
  const hash = location.hash.slice(1) || '/';
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  const m = path.match(/^\/job\/([^/]+)(?:\/(log|artifacts|file)(?:\/(.*))?)?$/);
  if (path === '/signin') signInPage(params);
  else if (m) {
    const rest = (m[3] || '').split('/').filter(Boolean).map(decodeURIComponent).join('/');
    jobPage(decodeURIComponent(m[1]), m[2] || 'steps', rest, params);
  } else jobsPage(params);
}
window.addEventListener('hashchange', route);
route();
