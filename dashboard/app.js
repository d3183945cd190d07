/*
 * firma's dashboard (docs/dashboard.md): one page over the HTTP API.
 *
 * Rules this file keeps:
 *  - Everything shown comes from the API under /v1, sent with the token the
 *    person typed in (kept in sessionStorage: this tab only).
 *  - Text from the API only ever reaches the page through textContent and
 *    attribute setters (el(), below); never innerHTML. The server's
 *    Content-Security-Policy allows no inline script and no other origin.
 *  - Live updates are polling (Live, below): one function, refresh(), is
 *    called every few seconds. When the API has its event stream, Live is
 *    the one place to change.
 */
'use strict';

const TOKEN_KEY = 'firma.token';
const POLL_MS = 3000;
const STATUSES = ['todo', 'doing', 'blocked', 'review', 'done'];

const $ = (sel) => document.querySelector(sel);

/* Builds an element: el('li', {class: 'x', data: {agent: 'cto'}}, 'text', child).
 * Strings become text nodes, so nothing from the API is parsed as HTML. */
function el(tag, attrs, ...kids) {
  const ns = attrs && attrs.svg ? 'http://www.w3.org/2000/svg' : null;
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'svg' || v === undefined || v === null || v === false) continue;
    if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function usd(micro) {
  return '$' + (Number(micro || 0) / 1e6).toFixed(2);
}

/* ---- the API ---- */

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || ('HTTP ' + status));
    this.status = status;
    this.code = e.code || '';
  }
}

async function api(path, opts = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = {Authorization: 'Bearer ' + token};
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const r = await fetch(path, {method: opts.method || 'GET', headers, body, cache: 'no-store'});
  let data = null;
  try { data = await r.json(); } catch (_) { /* an empty or non-JSON answer */ }
  if (r.status === 401) {
    logout('The server refused the token (401): ' + ((data && data.error && data.error.message) || 'unauthorized') + '.');
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/* Every page of a cursor-paged list (at most `maxPages`). */
async function allPages(path, key, maxPages) {
  const out = [];
  let after = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const d = await api(path + (after ? sep + 'after=' + encodeURIComponent(after) : ''));
    out.push(...d[key]);
    if (!d.next) break;
    after = d.next;
  }
  return out;
}

function notice(text, bad) {
  const n = $('#notice');
  n.textContent = text;
  n.classList.toggle('error', !!bad);
  n.hidden = !text;
}

/* ---- state ---- */

const state = {org: null, budget: null, tasks: [], approvals: [], agent: null, lastSeq: 0,
               events: [], auditAfter: null, openRuns: new Set()};

/* ---- login ---- */

async function login(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    const c = await api('/v1/company');
    $('#company').textContent = (c.title || c.name) + ' · ' + c.you;
  } catch (e) {
    if (e.status !== 401) showLoginError('Could not log in: ' + e.message);
    return false;
  }
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
  $('#login-error').hidden = true;
  await refresh();
  await loadAudit(null);
  Live.start();
  return true;
}

function showLoginError(text) {
  const m = $('#login-error');
  m.textContent = text;
  m.hidden = false;
}

function logout(why) {
  Live.stop();
  sessionStorage.removeItem(TOKEN_KEY);
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#company').textContent = '';
  if (why) showLoginError(why);
}

/* ---- live updates: polling now, the event stream later ---- */

const Live = {
  timer: null,
  start() {
    this.stop();
    $('#live').hidden = false;
    this.timer = setInterval(() => refresh().catch(() => {}), POLL_MS);
  },
  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    $('#live').hidden = true;
  },
};

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [org, budget, tasks, approvals] = await Promise.all([
      api('/v1/org'), api('/v1/budget'), allPages('/v1/tasks?limit=500', 'tasks', 10),
      api('/v1/approvals'),
    ]);
    Object.assign(state, {org, budget, tasks, approvals: approvals.approvals});
    drawOrg();
    drawBoard();
    drawApprovals();
    drawSpend();
    await pollActivity();
    if (state.agent) await drawAgent(state.agent, false);
  } catch (e) {
    if (e.status !== 401) notice('Could not refresh: ' + e.message, true);
  } finally {
    refreshing = false;
  }
}

/* ---- org chart ---- */

function spentOf(handle) {
  const b = state.budget && state.budget.agents.find((a) => a.agent === handle);
  return b || {spent_usd_micro: 0, cap_usd_micro: 0};
}

function agentNode(a, byManager) {
  const b = spentOf(a.handle);
  const reports = byManager.get(a.handle) || [];
  const cap = Number(b.cap_usd_micro);
  return el('li', {class: 'agent', data: {agent: a.handle}},
    el('div', {class: 'node'},
      el('button', {type: 'button', class: 'link', on: {click: () => openAgent(a.handle)}}, '@' + a.handle),
      el('span', {class: 'title'}, a.title),
      el('span', {class: 'status status-' + a.status}, a.status),
      el('span', {class: 'spend'},
        cap > 0 ? el('meter', {min: 0, max: cap, value: Math.min(Number(b.spent_usd_micro), cap),
                               title: usd(b.spent_usd_micro) + ' of ' + usd(cap)}) : null,
        ' ' + usd(b.spent_usd_micro) + (cap > 0 ? ' / ' + usd(cap) : ''))),
    reports.length ? el('ul', null, reports.map((r) => agentNode(r, byManager))) : null);
}

function drawOrg() {
  const {members, agents} = state.org;
  const byManager = new Map();
  for (const a of agents) {
    if (!byManager.has(a.manager)) byManager.set(a.manager, []);
    byManager.get(a.manager).push(a);
  }
  const known = new Set(agents.map((a) => a.handle));
  const roots = members.map((m) => el('li', {class: 'member', data: {member: m.handle}},
    el('div', {class: 'node'}, el('strong', null, m.name || m.handle), el('span', {class: 'muted'}, ' ' + m.role)),
    el('ul', null, (byManager.get('member:' + m.handle) || []).map((a) => agentNode(a, byManager)))));
  const orphans = agents.filter((a) => !known.has(a.manager) && !a.manager.startsWith('member:'));
  clear($('#org-tree')).append(el('ul', null, roots, orphans.map((a) => agentNode(a, byManager))));
}

/* ---- task board ---- */

function taskCard(t) {
  return el('div', {class: 'card', data: {task: t.id}},
    el('div', {class: 'card-title'}, t.title),
    el('div', {class: 'muted'}, '#' + t.id + (t.assignee ? ' · @' + t.assignee : ' · unassigned') + ' · P' + t.priority),
    t.result ? el('div', {class: 'result'}, t.result) : null);
}

function drawBoard() {
  const cols = STATUSES.map((s) => {
    const ts = state.tasks.filter((t) => t.status === s);
    return el('div', {class: 'column', data: {status: s}},
      el('h3', null, s + ' ', el('span', {class: 'badge'}, ts.length)),
      ts.map(taskCard));
  });
  clear($('#board-columns')).append(...cols);
}

/* ---- approvals ---- */

async function decide(a, approve, why) {
  try {
    await api('/v1/approvals/' + a.id + '/' + (approve ? 'approve' : 'deny'),
              {method: 'POST', body: why ? {why} : {}});
    notice((approve ? 'Approved' : 'Denied') + ' #' + a.id + ' (@' + a.agent + ').');
  } catch (e) {
    if (e.status !== 401) notice('Could not decide #' + a.id + ': ' + e.message, true);
  }
  await refresh();
}

function approvalItem(a) {
  const why = el('input', {class: 'why', placeholder: 'Why (the agent reads it)', 'aria-label': 'reason for denying'});
  const denyForm = el('form', {class: 'deny-form row', hidden: true,
    on: {submit: (ev) => {
      ev.preventDefault();
      if (!why.value.trim()) { why.focus(); return; }
      decide(a, false, why.value.trim());
    }}}, why, el('button', {type: 'submit', class: 'deny-confirm'}, 'Deny'));
  return el('div', {class: 'approval', data: {approvalId: a.id, agent: a.agent}},
    el('div', null, el('strong', null, '@' + a.agent), ' wants ',
       el('code', null, a.tool || a.kind || '?'), el('span', {class: 'muted'}, ' #' + a.id)),
    a.args ? el('pre', null, a.args) : null,
    a.reason ? el('div', {class: 'muted'}, a.reason) : null,
    el('div', {class: 'row'},
      el('button', {type: 'button', class: 'approve', on: {click: () => decide(a, true)}}, 'Approve'),
      el('button', {type: 'button', class: 'deny', on: {click: () => { denyForm.hidden = false; why.focus(); }}}, 'Deny…')),
    denyForm);
}

function drawApprovals() {
  const list = clear($('#approvals-list'));
  $('#approvals-count').textContent = state.approvals.length || '';
  if (!state.approvals.length) list.append(el('p', {class: 'muted'}, 'Nothing waiting for a decision.'));
  else list.append(...state.approvals.map(approvalItem));
}

/* ---- spend ---- */

/* A horizontal bar chart in SVG: rows of [label, value, cap]. */
function barChart(rows) {
  const w = 320, rowH = 22, labelW = 110;
  const max = Math.max(1, ...rows.map((r) => Math.max(r[1], r[2] || 0)));
  const svg = el('svg', {svg: true, class: 'chart', viewBox: `0 0 ${w} ${rows.length * rowH}`,
                         role: 'img', 'aria-label': 'spend per row'});
  rows.forEach(([label, v, cap], i) => {
    const y = i * rowH, span = w - labelW - 70;
    svg.append(el('text', {svg: true, x: 0, y: y + 15, class: 'label'}, label));
    if (cap) svg.append(el('rect', {svg: true, x: labelW, y: y + 4, width: span * cap / max, height: 14, class: 'cap'}));
    svg.append(el('rect', {svg: true, x: labelW, y: y + 4, width: Math.max(1, span * v / max), height: 14,
                           class: cap && v >= cap ? 'bar over' : 'bar'}));
    svg.append(el('text', {svg: true, x: w - 66, y: y + 15, class: 'value'}, usd(v)));
  });
  return svg;
}

function drawSpend() {
  const b = state.budget;
  const agents = state.org.agents;
  const spent = new Map(b.agents.map((a) => [a.agent, Number(a.spent_usd_micro)]));
  /* A team is an agent and everyone under it. */
  const teamOf = (h) => agents.filter((a) => a.manager === h)
    .reduce((sum, a) => sum + teamOf(a.handle), spent.get(h) || 0);
  const leads = agents.filter((a) => agents.some((r) => r.manager === a.handle));
  clear($('#spend-body')).append(
    el('p', null, 'Company: ' + usd(b.spent_usd_micro) + (Number(b.cap_usd_micro) ? ' of ' + usd(b.cap_usd_micro) : '') +
       ' this ' + b.period + ' · ' + b.spent_tokens + ' tokens'),
    el('h3', null, 'Per agent'),
    barChart(b.agents.map((a) => ['@' + a.agent, Number(a.spent_usd_micro), Number(a.cap_usd_micro)])),
    leads.length ? el('h3', null, 'Per team') : null,
    leads.length ? barChart(leads.map((a) => ['team @' + a.handle, teamOf(a.handle), 0])) : null);
}

/* ---- activity (the audit log's newest events) ---- */

function eventLine(e) {
  return el('li', null, el('span', {class: 'muted'}, e.ts.replace('T', ' ').replace(/\..*$/, '') + ' '),
    el('strong', null, e.actor), ' ' + e.action + (e.object ? ' ' + e.object : ''));
}

async function pollActivity() {
  const fresh = await allPages('/v1/audit?limit=1000&after=' + state.lastSeq, 'events', 20);
  if (!fresh.length && state.events.length) return;
  if (fresh.length) state.lastSeq = fresh[fresh.length - 1].seq;
  state.events = state.events.concat(fresh).slice(-40);
  clear($('#activity-list')).append(...state.events.slice().reverse().map(eventLine));
}

/* ---- audit viewer ---- */

async function loadAudit(after) {
  const action = $('#audit-action').value.trim();
  let q = '/v1/audit?limit=50';
  if (action) q += '&action=' + encodeURIComponent(action);
  if (after) q += '&after=' + encodeURIComponent(after);
  try {
    const d = await api(q);
    state.auditAfter = d.next;
    $('#audit-next').disabled = !d.next;
    clear($('#audit-table tbody')).append(...d.events.map((e) => el('tr', null,
      el('td', null, e.seq), el('td', null, e.ts), el('td', null, e.actor), el('td', null, e.action),
      el('td', null, e.object || ''))));
  } catch (e) {
    if (e.status !== 401) notice('Could not read the audit log: ' + e.message, true);
  }
}

async function verifyAudit() {
  const v = $('#audit-verdict');
  try {
    const r = await api('/v1/audit/verify');
    v.textContent = r.ok
      ? `Verified: ${r.events} events, ${r.checkpoints} checkpoints` + (r.signatures_checked ? ', signatures checked.' : ' (signatures not checked).')
      : `Broken at event #${r.first_bad_seq}: ${r.why}`;
    v.className = r.ok ? 'good' : 'error';
  } catch (e) {
    v.textContent = 'Could not verify: ' + e.message;
    v.className = 'error';
  }
  v.hidden = false;
}

/* ---- agent page ---- */

function when(us) {
  return us ? new Date(Number(us) / 1000).toISOString().replace('T', ' ').replace(/\..*$/, '') : '';
}

function stepItem(st) {
  return el('li', {class: 'step', data: {seq: st.seq}},
    el('div', null, el('strong', null, '#' + st.seq + ' ' + st.kind + (st.tool ? ' ' + st.tool : '')),
       el('span', {class: 'muted'}, ' ' + st.status + ' · prompt ' + st.prompt_bytes + ' B · ' +
          st.tokens_in + ' in / ' + st.tokens_out + ' out tokens · ' + usd(st.usd_micro))),
    st.request ? el('pre', null, st.request + (st.request_bytes > st.request.length ? ' …' : '')) : null,
    st.response ? el('pre', {class: 'response'}, st.response + (st.response_bytes > st.response.length ? ' …' : '')) : null);
}

/* The agent's recent runs; a run's steps are read when it is opened. */
async function runsList(handle) {
  const d = await api('/v1/agents/' + encodeURIComponent(handle) + '/runs?limit=20');
  const items = await Promise.all(d.runs.map(async (r) => {
    const open = state.openRuns.has(r.id);
    const steps = open ? (await api('/v1/runs/' + r.id + '/steps')).steps : [];
    const toggle = () => {
      if (open) state.openRuns.delete(r.id); else state.openRuns.add(r.id);
      drawAgent(handle, false);
    };
    return el('li', {class: 'run', data: {run: r.id}},
      el('div', {class: 'row'},
        el('button', {type: 'button', class: 'small run-toggle', on: {click: toggle}}, open ? 'Hide steps' : 'Steps'),
        el('strong', null, 'run ' + r.id), el('span', {class: 'status'}, r.status),
        el('span', {class: 'muted'}, when(r.started_us) + ' · ' + r.steps + ' steps · ' + r.tool_calls +
           ' tool calls · prompt ' + r.prompt_bytes + ' B · ' + usd(r.usd_micro))),
      r.reason ? el('div', {class: 'muted'}, r.reason) : null,
      open ? el('ol', {class: 'steps'}, steps.map(stepItem)) : null);
  }));
  return items.length ? el('ul', {class: 'runs'}, items) : el('p', {class: 'muted'}, 'No runs yet.');
}

function openAgent(handle) {
  state.agent = handle;
  location.hash = '#agent';
  drawAgent(handle, true);
}

async function agentAction(handle, what, body) {
  try {
    await api('/v1/agents/' + encodeURIComponent(handle) + '/' + what, {method: 'POST', body: body || {}});
    notice(what === 'messages' ? 'Message sent to @' + handle + '.' : '@' + handle + ': ' + what + 'd.');
  } catch (e) {
    if (e.status !== 401) notice('@' + handle + ': ' + e.message, true);
  }
  await refresh();
}

async function drawAgent(handle, scroll) {
  const sec = $('#agent');
  let a, tasks, events, runs;
  try {
    const h = encodeURIComponent(handle);
    [a, tasks, events, runs] = await Promise.all([
      api('/v1/agents/' + h), allPages('/v1/tasks?limit=500&assignee=' + h, 'tasks', 4),
      api('/v1/audit?limit=1000&actor=' + encodeURIComponent('agent:' + handle)),
      runsList(handle),
    ]);
  } catch (e) {
    if (e.status !== 401) notice('Could not read @' + handle + ': ' + e.message, true);
    return;
  }
  if (state.agent !== handle) return;
  const b = spentOf(handle);
  const msg = el('input', {placeholder: 'Message to @' + handle, 'aria-label': 'message'});
  $('#agent-handle').textContent = '@' + a.handle;
  clear($('#agent-body')).append(
    el('dl', {class: 'facts'},
      el('dt', null, 'title'), el('dd', null, a.title),
      el('dt', null, 'status'), el('dd', null, a.status),
      el('dt', null, 'manager'), el('dd', null, a.manager),
      el('dt', null, 'kind'), el('dd', null, a.kind + (a.model ? ' · ' + a.model : '')),
      el('dt', null, 'autonomy'), el('dd', null, a.autonomy),
      el('dt', null, 'budget'), el('dd', null, usd(b.spent_usd_micro) + ' of ' + usd(a.budget.usd_micro) + ' this ' + a.budget.period),
      el('dt', null, 'tools'), el('dd', null, a.grants.map((g) => g.tool + ' (' + g.ceiling + ')').join(', ') || 'none')),
    el('div', {class: 'row'},
      el('button', {type: 'button', on: {click: () => agentAction(handle, 'pause')}}, 'Pause'),
      el('button', {type: 'button', on: {click: () => agentAction(handle, 'resume')}}, 'Resume')),
    el('form', {class: 'row', on: {submit: (ev) => {
      ev.preventDefault();
      if (msg.value.trim()) agentAction(handle, 'messages', {text: msg.value.trim()});
    }}}, msg, el('button', {type: 'submit'}, 'Send')),
    el('h3', null, 'Tasks'),
    tasks.length ? el('ul', null, tasks.map((t) => el('li', null, '#' + t.id + ' [' + t.status + '] ' + t.title)))
                 : el('p', {class: 'muted'}, 'No tasks.'),
    el('h3', null, 'Runs'),
    runs,
    el('h3', null, 'What it did (audit)'),
    el('ol', {class: 'events'}, events.events.slice(-30).reverse().map(eventLine)));
  sec.hidden = false;
  if (scroll) sec.scrollIntoView();
}

/* ---- start ---- */

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('#token').value.trim();
    $('#token').value = '';
    if (t) login(t);
  });
  $('#logout').addEventListener('click', () => logout(''));
  $('#agent-close').addEventListener('click', () => { state.agent = null; $('#agent').hidden = true; });
  $('#audit-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadAudit(null); });
  $('#audit-next').addEventListener('click', () => loadAudit(state.auditAfter));
  $('#audit-verify').addEventListener('click', verifyAudit);
  if (sessionStorage.getItem(TOKEN_KEY)) login(sessionStorage.getItem(TOKEN_KEY));
});
