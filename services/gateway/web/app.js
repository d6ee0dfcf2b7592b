// Arca's web page: a jobs list and a job page (steps, log, artifacts), from
// /graphql as PrimeHub's client does. No framework, no build step.
'use strict';

const app = document.getElementById('app');
const PAGE = 20;

// A bearer token, when the gateway asks for one (kept in this browser only).
let token = localStorage.getItem('arca-token') || '';
const tokenButton = document.getElementById('token-button');
tokenButton.hidden = !token;
tokenButton.addEventListener('click', () => askToken());

function askToken() {
  const t = prompt('Bearer token for this Arca gateway (empty to forget it):', token);
  if (t === null) return;
  token = t.trim();
  if (token) localStorage.setItem('arca-token', token); else localStorage.removeItem('arca-token');
  tokenButton.hidden = !token;
  route();
}

function headers(extra) {
  const h = Object.assign({}, extra);
  if (token) h.Authorization = 'Bearer ' + token;
  return h;
}

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function gql(query, variables) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: headers({ 'Content-Type': 'application/json' }),
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try { body = await res.json(); } catch (e) { throw new HttpError(res.status, `HTTP ${res.status}`); }
  if (res.status === 401) throw new HttpError(401, body.errors?.[0]?.message || 'a token is needed');
  if (body.errors && body.errors.length && !body.data) throw new HttpError(res.status, body.errors[0].message);
  if (!res.ok) throw new HttpError(res.status, body.errors?.[0]?.message || body.error || `HTTP ${res.status}`);
  if (body.errors && body.errors.length) throw new HttpError(200, body.errors[0].message);
  return body.data;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
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

function show(...nodes) { app.replaceChildren(...nodes); }
function loading(where) { where.replaceChildren(el('p', { class: 'state' }, 'Loading…')); }
function failure(where, err, retry) {
  const parts = [el('p', { class: 'state error', role: 'alert' }, `Could not load: ${err.message}`)];
  if (err.status === 401) parts.push(el('p', { class: 'state' }, el('button', { onclick: askToken }, 'Enter a token')));
  else if (retry) parts.push(el('p', { class: 'state' }, el('button', { onclick: retry }, 'Try again')));
  where.replaceChildren(...parts);
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
      body.replaceChildren(el('p', { class: 'state' },
        status ? `No ${status} jobs.` : 'No jobs yet. Run one with: arca run -- your command'));
    } else {
      body.replaceChildren(el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, 'Job'), el('th', { class: 'hide-narrow' }, 'Name'),
          el('th', { class: 'hide-narrow' }, 'Group'), el('th', {}, 'Status'), el('th', { class: 'hide-narrow' }, 'Created'))),
        el('tbody', {}, jobs.map((j) => el('tr', {},
          el('td', {}, el('a', { class: 'mono', href: `#/job/${encodeURIComponent(j.id)}` }, j.id)),
          el('td', { class: 'hide-narrow' }, j.name || '—'),
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

function artifactsTable(items) {
  if (!items.length) return el('p', { class: 'state' }, 'This job collected no artifacts.');
  return el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Path'), el('th', { class: 'num' }, 'Size'),
      el('th', { class: 'hide-narrow' }, 'Modified'))),
    el('tbody', {}, items.map((it) => {
      const a = el('a', { class: 'mono', href: it.downloadUrl, download: it.name.split('/').pop() }, it.name);
      if (token) {
        a.addEventListener('click', async (e) => {
          e.preventDefault();
          const res = await fetch(it.downloadUrl, { headers: headers() });
          if (!res.ok) { alert(`Download failed: HTTP ${res.status}`); return; }
          const url = URL.createObjectURL(await res.blob());
          const tmp = el('a', { href: url, download: it.name.split('/').pop() });
          document.body.append(tmp); tmp.click(); tmp.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
        });
      }
      return el('tr', {}, el('td', {}, a), el('td', { class: 'num' }, humanSize(it.size)),
        el('td', { class: 'hide-narrow' }, when(it.lastModified)));
    })));
}

async function jobPage(id) {
  const body = el('div');
  show(el('p', {}, el('a', { href: '#/' }, '← Jobs')), body);
  loading(body);
  let job;
  try {
    const data = await gql(`query Job($id: ID!) { phJob(where: {id: $id}) {
        id name group status finished createdAt finishedAt
        steps { name status start end text }
        logs { name size downloadUrl }
        artifact { prefix items { name size lastModified downloadUrl } } } }`, { id });
    job = data.phJob;
  } catch (err) {
    // phJob is non-null (as PrimeHub's): a job the caller cannot see is an error.
    if (/^no job with id /.test(err.message)) {
      body.replaceChildren(el('p', { class: 'state error', role: 'alert' }, `No job ${id}.`));
    } else {
      failure(body, err, () => jobPage(id));
    }
    return;
  }
  const panel = el('div', { class: 'panel card' });
  const tabs = {
    Steps: () => job.steps.length
      ? el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Step'), el('th', {}, 'Status'),
          el('th', { class: 'hide-narrow' }, 'Started'), el('th', { class: 'hide-narrow' }, 'Ended'), el('th', {}, 'Detail'))),
        el('tbody', {}, job.steps.map((s) => el('tr', {}, el('td', {}, s.name), el('td', {}, badge(s.status)),
          el('td', { class: 'hide-narrow' }, when(s.start)), el('td', { class: 'hide-narrow' }, when(s.end)),
          el('td', {}, s.text || '')))))
      : el('p', { class: 'state' }, 'No steps recorded yet.'),
    Log: () => {
      if (!job.logs.length) return el('p', { class: 'state' }, 'No log was recorded for this job.');
      const pre = el('pre', { class: 'log' }, 'Loading…');
      fetch(job.logs[0].downloadUrl, { headers: headers() })
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`HTTP ${r.status}`))))
        .then((t) => { pre.textContent = t || '(the log is empty)'; })
        .catch((e) => { pre.textContent = `Could not load the log: ${e.message}`; });
      return pre;
    },
    Artifacts: () => el('div', {},
      el('p', { class: 'sub prefix' }, el('span', { class: 'mono' }, job.artifact.prefix)),
      artifactsTable(job.artifact.items)),
  };
  const buttons = Object.keys(tabs).map((name) => {
    const disabled = name === 'Artifacts' && !job.finished;
    return el('button', {
      role: 'tab', type: 'button', 'aria-selected': 'false', disabled,
      title: disabled ? 'Artifacts are collected when the job finishes' : null,
      onclick: () => select(name),
    }, name === 'Artifacts' && job.finished ? `Artifacts (${job.artifact.items.length})` : name);
  });
  function select(name) {
    buttons.forEach((b, i) => b.setAttribute('aria-selected', String(Object.keys(tabs)[i] === name)));
    panel.replaceChildren(tabs[name]());
  }
  body.replaceChildren(
    el('h1', { class: 'mono' }, job.id),
    el('p', { class: 'sub' }, badge(job.status), ' ', job.name ? `${job.name} · ` : '', `group ${job.group} · `,
      `created ${when(job.createdAt)}`, job.finishedAt ? ` · finished ${when(job.finishedAt)}` : ''),
    el('div', { class: 'tabs', role: 'tablist' }, buttons),
    panel);
  select('Steps');
}

// --------------------------------------------------------------- routes

function route() {
  const hash = location.hash.slice(1) || '/';
  const [path, query] = hash.split('?');
  const job = path.match(/^\/job\/(.+)$/);
  if (job) jobPage(decodeURIComponent(job[1]));
  else jobsPage(new URLSearchParams(query || ''));
}
window.addEventListener('hashchange', route);
route();
