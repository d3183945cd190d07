/*
 * firma's dashboard (docs/dashboard.md): one page over the HTTP API.
 *
 * Rules this file keeps:
 *  - Everything shown comes from the API under /v1, sent with the token the
 *    person typed in (kept in sessionStorage: this tab only), in the
 *    Authorization header, never in a URL.
 *  - Text from the API only ever reaches the page through textContent and
 *    attribute setters (el(), below); never innerHTML. The server's
 *    Content-Security-Policy allows no inline script and no other origin.
 *  - Live updates come from the event stream, GET /v1/events (Live, below),
 *    read with fetch() because an EventSource cannot send the token. An
 *    event is added to the activity list and marks the parts it affects for
 *    a refresh (Refresh: debounced); nothing is polled.
 */
'use strict';

const TOKEN_KEY = 'firma.token';
const STATUSES = ['todo', 'doing', 'blocked', 'review', 'done'];
const ACTIVITY_MAX = 60;
const DEBOUNCE_MS = 400;      /* a burst of events is one refresh... */
const MAX_WAIT_MS = 1500;     /* ...but a steady stream still refreshes this often */
const RETRY_MIN_MS = 1000;    /* reconnect backoff: 1 s, 2 s, 4 s ... 30 s */
const RETRY_MAX_MS = 30000;
const STALE_MS = 45000;       /* the server comments every 15 s; silence this long is a drop */
const ACTING_ROLES = ['owner', 'admin', 'operator'];

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

/* What the page says about a failed call: the API's own message and status,
 * so a refused change (403) is never silent. */
function failure(e) {
  return e.status ? e.message + ' (' + e.status + (e.code ? ' ' + e.code : '') + ')' : e.message;
}

async function api(path, opts = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const session = state.session;
  const headers = {Authorization: 'Bearer ' + token};
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let r;
  try {
    r = await fetch(path, {method: opts.method || 'GET', headers, body, cache: 'no-store'});
  } catch (_) {
    /* fetch's own "Failed to fetch" says nothing to a person */
    throw new Error('no answer from the firma server at ' + location.host + ' (is firma serve running?)');
  }
  let data = null;
  try { data = await r.json(); } catch (_) { /* an empty or non-JSON answer */ }
  if (r.status === 401) {
    /* Only the session that sent the token is ended by its refusal. */
    if (session === state.session) {
      logout('The server refused the token (401): ' + ((data && data.error && data.error.message) || 'unauthorized') + '.');
    }
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function notice(text, bad) {
  const n = $('#notice');
  n.textContent = text;
  n.classList.toggle('error', !!bad);
  n.hidden = !text;
}

/* ---- state ---- */

/* What one login has read: a new login starts afresh. */
function sessionState() {
  return {canAct: false, org: null, budget: null, tasks: [], approvals: [], agent: null, events: [],
          auditAfter: null, openRuns: new Set(), daily: null, dailyError: ''};
}

/* One session per login: anything read for an older one is dropped. */
const state = {session: 0, dailyDays: 30, ...sessionState()};

function resetState() {
  Object.assign(state, sessionState(), {session: state.session + 1});
  for (const sel of ['#org-tree', '#approvals-list', '#board-columns', '#spend-body', '#daily-chart',
                     '#daily-legend', '#activity-list', '#audit-table tbody', '#agent-body']) {
    clear($(sel));
  }
  $('#agent').hidden = true;
  $('#audit-verdict').hidden = true;
  $('#approvals-count').textContent = '';
  $('#role').hidden = true;
  notice('');
}

/* ---- login ---- */

async function login(token) {
  /* A new token is a new session: the old one's stream and data go first. */
  Live.stop();
  Refresh.cancel();
  resetState();
  sessionStorage.setItem(TOKEN_KEY, token);
  const session = state.session;
  let c;
  try {
    c = await api('/v1/company');
  } catch (e) {
    if (e.status !== 401) showLoginError('Could not log in: ' + failure(e));
    return false;
  }
  if (session !== state.session) return false;
  state.canAct = ACTING_ROLES.includes(c.role);
  $('#company').textContent = (c.title || c.name) + ' · ' + c.you;
  const role = $('#role');
  role.textContent = c.role + (state.canAct ? '' : ' · read-only');
  role.hidden = false;
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
  $('#login-error').hidden = true;
  /* The stream first, then the reads: whatever changes after the stream's
   * start arrives as an event, so nothing falls between the two. */
  await Live.start();
  if (session !== state.session) return false;
  await Promise.all([runParts(ALL_PARTS), loadActivity(), loadAudit(null)]);
  return true;
}

function showLoginError(text) {
  const m = $('#login-error');
  m.textContent = text;
  m.hidden = false;
}

function logout(why) {
  Live.stop();
  Refresh.cancel();
  sessionStorage.removeItem(TOKEN_KEY);
  resetState();
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#company').textContent = '';
  if (why) showLoginError(why);
}

/* ---- live: the event stream ---- */

/* Server-Sent Events, parsed as the HTML standard says (id:, event:, data:,
 * retry:, comments starting with ':', an event ends at a blank line; lines
 * end with CRLF, LF or CR). onEvent gets {type, data, id}. */
class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buf = '';
    this.type = '';
    this.data = '';
    this.idBuf = '';
    this.lastId = '';
    this.retry = 0;
  }

  feed(text) {
    this.buf += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      /* A CR at the very end may be the first half of a CRLF. */
      if (!m || (m[0] === '\r' && m.index === this.buf.length - 1)) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      this.lastId = this.idBuf;
      if (this.data) {
        this.onEvent({type: this.type || 'message', data: this.data.slice(0, -1), id: this.lastId});
      }
      this.type = '';
      this.data = '';
      return;
    }
    if (line[0] === ':') return; /* a comment: the server's keep-alive */
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data += value + '\n';
    else if (field === 'id' && !value.includes('\0')) this.idBuf = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/* Which parts of the page an event changes (Parts). The open agent page
 * only for an event about that agent, or any change to an agent (a team's
 * pause reaches it through its manager). */
function affected(type, data) {
  data = data || {};
  const parts = {
    'task': ['tasks'], 'approval.requested': ['approvals'], 'approval.decided': ['approvals'],
    'approval.escalated': ['approvals'], 'agent.paused': ['org'], 'agent': ['org', 'spend'],
    'budget.alert': ['spend'], 'run.step': ['spend'],
  }[type] || (/^member\./.test(data.action || '') ? ['org'] : []);
  const h = state.agent;
  if (h && (type === 'agent.paused' || type === 'agent' || data.agent === h ||
            data.actor === 'agent:' + h || data.object === 'agent:' + h)) {
    parts.push('agent');
  }
  return parts;
}

/* GET /v1/events read with fetch(): one long request for the whole session.
 * It keeps the last event's id and, after a drop, reconnects with
 * Last-Event-ID (so nothing is missed) after a backoff. Stopped on logout
 * and when the tab logs in with another token. */
const Live = {
  gen: 0,          /* bumped by stop(): an older connection's callbacks see it and quit */
  ctl: null,
  timer: null,
  watchdog: null,
  lastId: '',
  retryMs: 0,
  serverRetry: 0,
  events: 0,

  /* Resolves once the stream is open or its first try has failed. */
  start() {
    this.stop();
    this.lastId = '';
    this.retryMs = 0;
    this.events = 0;
    const gen = ++this.gen;
    return new Promise((resolve) => this.connect(gen, sessionStorage.getItem(TOKEN_KEY), resolve));
  },

  stop() {
    this.gen++;
    if (this.ctl) this.ctl.abort();
    this.ctl = null;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.show('off');
  },

  show(st) {
    const l = $('#live');
    l.hidden = st === 'off';
    l.dataset.state = st;
    l.dataset.events = String(this.events);
    l.textContent = {on: 'live', retry: 'reconnecting…', connecting: 'connecting…'}[st] || '';
    l.title = st === 'on' ? 'Receiving events from /v1/events' : '';
  },

  async connect(gen, token, opened) {
    const done = () => { if (opened) { opened(); opened = null; } };
    if (gen !== this.gen || token !== sessionStorage.getItem(TOKEN_KEY)) { done(); return; }
    const ctl = new AbortController();
    this.ctl = ctl;
    const resumed = this.lastId !== '';
    const headers = {Authorization: 'Bearer ' + token, Accept: 'text/event-stream'};
    if (resumed) headers['Last-Event-ID'] = this.lastId;
    this.show(resumed ? 'retry' : 'connecting');
    try {
      const r = await fetch('/v1/events', {headers, signal: ctl.signal, cache: 'no-store'});
      if (gen !== this.gen) { ctl.abort(); return; }
      if (r.status === 401) {
        let msg = 'unauthorized';
        try { msg = (await r.json()).error.message; } catch (_) { /* not JSON */ }
        done();
        logout('The server refused the token (401): ' + msg + '.');
        return;
      }
      if (r.status === 422 && resumed) {
        /* The server does not know our place: start again from now. */
        this.lastId = '';
        throw new Error('the stream did not know ' + headers['Last-Event-ID']);
      }
      if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
      this.retryMs = 0;
      this.show('on');
      /* After a resume the server replays what we missed, so the refreshes
       * follow from the events themselves. A stream started from now other
       * than login's (which reads everything next) may have missed some:
       * read everything afresh. */
      if (!resumed && !opened) Refresh.want(...ALL_PARTS);
      done();
      await this.read(r.body.getReader(), gen, ctl);
    } catch (_) {
      /* aborted, refused or dropped: the same answer, try again */
    }
    done();
    if (gen !== this.gen) return;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs ? this.retryMs * 2 : Math.max(RETRY_MIN_MS, this.serverRetry));
    this.show('retry');
    const wait = this.retryMs * (0.8 + 0.4 * Math.random());
    this.timer = setTimeout(() => this.connect(gen, token, null), wait);
  },

  async read(reader, gen, ctl) {
    const dec = new TextDecoder();
    const parser = new SseParser((ev) => this.onEvent(ev));
    const arm = () => {
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => ctl.abort(), STALE_MS);
    };
    arm();
    try {
      for (;;) {
        const {value, done} = await reader.read();
        if (gen !== this.gen) return;
        if (done) return;
        arm();
        parser.feed(dec.decode(value, {stream: true}));
        if (parser.lastId) this.lastId = $('#live').dataset.lastId = parser.lastId;
        if (parser.retry) this.serverRetry = parser.retry;
      }
    } finally {
      clearTimeout(this.watchdog);
      reader.cancel().catch(() => {});
    }
  },

  onEvent(ev) {
    let data = null;
    try { data = JSON.parse(ev.data); } catch (_) { return; }
    this.events++;
    $('#live').dataset.events = String(this.events);
    addActivity(activityOf(ev.type, data));
    const parts = affected(ev.type, data);
    if (parts.length) Refresh.want(...parts);
  },
};

/* ---- refreshing parts of the page ---- */

/* Waits for the reads, then draws with what they gave, unless the session
 * changed meanwhile. */
async function fresh(reads, draw) {
  const s = state.session;
  const got = await Promise.all(reads);
  if (s === state.session) draw(...got);
}

/* Each part of the page: what it reads and what it then draws. The org
 * chart and the spend charts need both the org and the budget. */
const Parts = {
  org: () => fresh([api('/v1/org')], (org) => {
    state.org = org;
    drawOrg();
    drawSpend();
    drawDaily();
  }),
  spend: () => fresh([api('/v1/budget'), loadDaily()], (budget) => {
    state.budget = budget;
    drawOrg();
    drawSpend();
    drawDaily();
  }),
  tasks: () => fresh([allTasks()], (tasks) => {
    state.tasks = tasks;
    drawBoard();
    drawAgentTasks();
  }),
  approvals: () => fresh([api('/v1/approvals')], (d) => {
    state.approvals = d.approvals;
    drawApprovals();
  }),
  agent: async () => { if (state.agent) await drawAgent(state.agent, false); },
};
const ALL_PARTS = Object.keys(Parts);

/* Every task, a page of 500 at a time (at most 10 pages). */
async function allTasks() {
  const out = [];
  let after = null;
  for (let i = 0; i < 10; i++) {
    const d = await api('/v1/tasks?limit=500' + (after ? '&after=' + encodeURIComponent(after) : ''));
    out.push(...d.tasks);
    if (!d.next) break;
    after = d.next;
  }
  return out;
}

async function runParts(names) {
  const results = await Promise.allSettled(names.map((p) => Parts[p]()));
  const bad = results.find((r) => r.status === 'rejected' && r.reason.status !== 401);
  if (bad) notice('Could not refresh: ' + failure(bad.reason), true);
}

/* The refreshes events ask for, debounced: parts marked within DEBOUNCE_MS
 * of each other (at most MAX_WAIT_MS from the first) are read once. */
const Refresh = {
  dirty: new Set(),
  timer: null,
  first: 0,
  running: false,

  want(...parts) {
    for (const p of parts) this.dirty.add(p);
    if (this.running) return; /* flush() looks again when it ends */
    const now = Date.now();
    if (!this.first) this.first = now;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(DEBOUNCE_MS, this.first + MAX_WAIT_MS - now)));
  },

  async flush() {
    this.timer = null;
    this.first = 0;
    const parts = [...this.dirty];
    this.dirty.clear();
    if (!parts.length) return;
    this.running = true;
    try {
      await runParts(parts);
    } finally {
      this.running = false;
      /* cancel() empties dirty when the session ends: what is left is new */
      if (this.dirty.size) this.want();
    }
  },

  cancel() {
    clearTimeout(this.timer);
    this.timer = null;
    this.first = 0;
    this.dirty.clear();
  },
};

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
  if (!state.org) return;
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

/* A viewer's token may not decide: its buttons are there, disabled. If one
 * is used anyway, the API's 403 is shown. */
const READ_ONLY = 'This token is read-only (viewer): decisions need an operator or above.';

/* What a decision or an action changes comes back as events, which redraw
 * the parts they change (affected): nothing is read here. */
async function decide(a, approve, why) {
  const what = approve ? 'approve' : 'deny';
  try {
    await api('/v1/approvals/' + a.id + '/' + what, {method: 'POST', body: why ? {why} : {}});
    notice((approve ? 'Approved' : 'Denied') + ' #' + a.id + ' (@' + a.agent + ').');
  } catch (e) {
    if (e.status !== 401) notice('Could not ' + what + ' #' + a.id + ': ' + failure(e), true);
  }
}

function approvalItem(a) {
  const ro = !state.canAct;
  const why = el('input', {class: 'why', placeholder: 'Why (the agent reads it)', 'aria-label': 'reason for denying',
                           disabled: ro});
  const denyForm = el('form', {class: 'deny-form row', hidden: true,
    on: {submit: (ev) => {
      ev.preventDefault();
      if (!why.value.trim()) { why.focus(); return; }
      decide(a, false, why.value.trim());
    }}}, why, el('button', {type: 'submit', class: 'deny-confirm', disabled: ro}, 'Deny'));
  return el('div', {class: 'approval', data: {approvalId: a.id, agent: a.agent}},
    el('div', null, el('strong', null, '@' + a.agent), ' wants ',
       el('code', null, a.tool || a.kind || '?'), el('span', {class: 'muted'}, ' #' + a.id)),
    a.args ? el('pre', null, a.args) : null,
    a.reason ? el('div', {class: 'muted'}, a.reason) : null,
    el('div', {class: 'row'},
      el('button', {type: 'button', class: 'approve', disabled: ro, title: ro ? READ_ONLY : null,
                    on: {click: () => decide(a, true)}}, 'Approve'),
      el('button', {type: 'button', class: 'deny', disabled: ro, title: ro ? READ_ONLY : null,
                    on: {click: () => { denyForm.hidden = false; why.focus(); }}}, 'Deny…')),
    denyForm);
}

function drawApprovals() {
  const list = clear($('#approvals-list'));
  $('#approvals-count').textContent = state.approvals.length || '';
  if (!state.canAct) list.append(el('p', {class: 'muted read-only'}, READ_ONLY));
  if (!state.approvals.length) list.append(el('p', {class: 'muted'}, 'Nothing waiting for a decision.'));
  else list.append(...state.approvals.map(approvalItem));
}

/* ---- spend ---- */

/* Dollars from micro-dollars, with the digits small amounts need. */
function usdFine(micro) {
  const v = Number(micro || 0) / 1e6;
  if (v === 0) return '$0';
  if (v >= 1) return '$' + v.toFixed(2);
  if (v >= 0.01) return '$' + v.toFixed(3);
  return '$' + v.toPrecision(2);
}

/* Agents who manage someone: each leads a team, itself and everyone under it. */
function leads(agents) {
  return agents.filter((a) => agents.some((r) => r.manager === a.handle));
}

function teamOf(lead, agents) {
  const out = [lead];
  for (let i = 0; i < out.length; i++) {
    for (const a of agents) if (a.manager === out[i] && !out.includes(a.handle)) out.push(a.handle);
  }
  return out;
}

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
  if (!b || !state.org) return;
  const agents = state.org.agents;
  const spent = new Map(b.agents.map((a) => [a.agent, Number(a.spent_usd_micro)]));
  const teamSpent = (h) => teamOf(h, agents).reduce((sum, m) => sum + (spent.get(m) || 0), 0);
  const ls = leads(agents);
  clear($('#spend-body')).append(
    el('p', null, 'Company: ' + usd(b.spent_usd_micro) + (Number(b.cap_usd_micro) ? ' of ' + usd(b.cap_usd_micro) : '') +
       ' this ' + b.period + ' · ' + b.spent_tokens + ' tokens'),
    el('h3', null, 'Per agent'),
    barChart(b.agents.map((a) => ['@' + a.agent, Number(a.spent_usd_micro), Number(a.cap_usd_micro)])),
    ls.length ? el('h3', null, 'Per team') : null,
    ls.length ? barChart(ls.map((a) => ['team @' + a.handle, teamSpent(a.handle), 0])) : null);
}

/* ---- spend per day (GET /v1/spend/daily) ---- */

async function loadDaily() {
  const days = state.dailyDays, s = state.session;
  let daily = null, error = '';
  try {
    daily = await api('/v1/spend/daily?days=' + days);
  } catch (e) {
    if (e.status === 401) throw e;
    error = 'Could not read spend per day: ' + failure(e);
  }
  if (s !== state.session || days !== state.dailyDays) return; /* asked again meanwhile */
  state.daily = daily;
  state.dailyError = error;
}

/* The choices: the company, each agent, each team. */
function seriesChoices() {
  const agents = state.org ? state.org.agents : [];
  return {
    agents: agents.map((a) => ['agent:' + a.handle, '@' + a.handle]),
    teams: leads(agents).map((a) => ['team:' + a.handle, 'team @' + a.handle]),
  };
}

function drawSeriesChoices() {
  const sel = $('#daily-series');
  const c = seriesChoices();
  const key = JSON.stringify(c);
  if (sel.dataset.key === key) return;
  const cur = sel.value || 'company';
  const opt = ([v, label]) => el('option', {value: v}, label);
  clear(sel).append(el('option', {value: 'company'}, 'Company'),
    c.agents.length ? el('optgroup', {label: 'Agents'}, c.agents.map(opt)) : null,
    c.teams.length ? el('optgroup', {label: 'Teams'}, c.teams.map(opt)) : null);
  const all = ['company', ...c.agents.map((o) => o[0]), ...c.teams.map((o) => o[0])];
  sel.value = all.includes(cur) ? cur : 'company';
  sel.dataset.key = key;
}

/* The series to draw for a choice: [{key, label, usd[], tokens[], main}],
 * the chosen total first; a team also gets a line per member who spent. */
function seriesFor(choice, d) {
  const zeros = d.days.map(() => 0);
  const row = (h) => d.agents.find((a) => a.agent === h);
  const [kind, h] = choice.split(':');
  if (kind === 'agent') {
    const r = row(h);
    return [{key: 'agent:' + h, label: '@' + h, usd: r ? r.usd_micro : zeros, tokens: r ? r.tokens : zeros, main: true}];
  }
  if (kind === 'team' && state.org) {
    const rows = teamOf(h, state.org.agents).map(row).filter(Boolean);
    const sum = (k) => d.days.map((_, i) => rows.reduce((t, r) => t + Number(r[k][i] || 0), 0));
    return [{key: 'team:' + h, label: 'team @' + h + ' (total)', usd: sum('usd_micro'), tokens: sum('tokens'), main: true},
      ...rows.map((r) => ({key: 'agent:' + r.agent, label: '@' + r.agent, usd: r.usd_micro, tokens: r.tokens}))];
  }
  return [{key: 'company', label: 'Company', usd: d.company.usd_micro, tokens: d.company.tokens, main: true}];
}

/* 1, 2 or 5 times a power of ten, at least v. */
function niceMax(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/* A line chart in SVG, one path per series, days along the bottom. */
function lineChart(days, series) {
  const W = 480, H = 200, L = 56, R = 10, T = 10, B = 24;
  const pw = W - L - R, ph = H - T - B, n = days.length;
  const max = niceMax(Math.max(1, ...series.flatMap((s) => s.usd.map(Number))));
  const x = (i) => L + (n > 1 ? i * pw / (n - 1) : pw / 2);
  const y = (v) => T + ph - Number(v) / max * ph;
  const svg = el('svg', {svg: true, class: 'chart daily', viewBox: `0 0 ${W} ${H}`, role: 'img',
                         'aria-label': 'spend per day: ' + series.map((s) => s.label).join(', ')});
  for (const f of [0, 0.5, 1]) {
    svg.append(el('line', {svg: true, x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), class: 'grid'}),
      el('text', {svg: true, x: L - 4, y: y(max * f) + 4, class: 'axis', 'text-anchor': 'end'}, usdFine(max * f)));
  }
  const ticks = n > 2 ? [0, Math.floor((n - 1) / 2), n - 1] : [...days.keys()];
  for (const i of ticks) {
    svg.append(el('text', {svg: true, x: x(i), y: H - 6, class: 'axis',
                           'text-anchor': n === 1 ? 'middle' : i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'},
                  days[i].slice(5)));
  }
  series.forEach((s, k) => {
    const total = s.usd.reduce((t, v) => t + Number(v), 0);
    const d = s.usd.map((v, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1)).join(' ');
    svg.append(el('path', {svg: true, d, class: 'series s' + (k % 6) + (s.main ? ' main' : ''),
                           data: {series: s.key, total, points: s.usd.length}},
      el('title', {svg: true}, s.label + ': ' + usdFine(total))));
  });
  /* Each day of the chosen series: a dot (on short ranges) and a column
   * whose tooltip gives its numbers. */
  const main = series[0], colW = n > 1 ? pw / (n - 1) : pw;
  days.forEach((day, i) => {
    if (n <= 31) svg.append(el('circle', {svg: true, cx: x(i), cy: y(main.usd[i]), r: 2.5, class: 'dot s0'}));
    svg.append(el('rect', {svg: true, x: Math.max(L, x(i) - colW / 2), y: T, width: colW, height: ph, class: 'hover'},
      el('title', {svg: true}, day + ': ' + usdFine(main.usd[i]) + ' · ' + main.tokens[i] + ' tokens')));
  });
  return svg;
}

function drawDaily() {
  drawSeriesChoices();
  const box = clear($('#daily-chart'));
  const legend = clear($('#daily-legend'));
  const d = state.daily;
  if (!d) {
    box.append(el('p', {class: state.dailyError ? 'error' : 'muted'}, state.dailyError || 'Loading…'));
    return;
  }
  const series = seriesFor($('#daily-series').value || 'company', d);
  box.append(lineChart(d.days, series));
  const sum = (v) => v.reduce((t, x) => t + Number(x), 0);
  legend.append(...series.map((s, k) => el('li', {data: {series: s.key}},
    el('span', {class: 'swatch s' + (k % 6)}), s.label + ' ' + usdFine(sum(s.usd)) + ' · ' + sum(s.tokens) + ' tokens')));
  $('#daily-caption').textContent = d.days.length ? 'UTC days, ' + d.days[0] + ' to ' + d.days[d.days.length - 1] + '.' : '';
}

async function changeDays() {
  state.dailyDays = Number($('#daily-days').value);
  state.daily = null;
  state.dailyError = '';
  drawDaily();
  try {
    await loadDaily();
  } catch (_) { return; /* 401: logged out */ }
  drawDaily();
}

/* ---- live activity: the audit log's newest events, then the stream's ---- */

let arrivals = 0;

/* An event (from the stream, or an audit event from /v1/audit) as a line. */
function activityOf(type, d) {
  if (type === 'run.step') {
    return {key: 's' + d.step, ts: Number(d.started_at) / 1000, actor: 'agent:' + d.agent, type,
            text: 'run ' + d.run + ' step ' + d.seq + ' ' + d.kind + (d.tool ? ' ' + d.tool : '') + ' ' + d.status +
                  (Number(d.usd_micro) ? ' · ' + usdFine(d.usd_micro) : '')};
  }
  return {key: 'a' + d.seq, ts: typeof d.ts === 'number' ? d.ts / 1000 : Date.parse(d.ts), actor: d.actor, type,
          text: d.action + (d.object ? ' ' + d.object : '')};
}

/* "2026-11-23 15:57:46" (UTC) from milliseconds since the epoch. */
function utc(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function activityLine(it) {
  const t = isNaN(it.ts) ? '' : utc(it.ts) + ' ';
  return el('li', {data: {key: it.key, type: it.type}}, el('span', {class: 'muted'}, t),
    el('strong', null, it.actor), ' ' + it.text);
}

/* Adds events to the list (each once: the first read and the stream may
 * overlap), newest first. */
function addActivity(...items) {
  const seen = new Set(state.events.map((e) => e.key));
  for (const it of items) {
    if (seen.has(it.key)) continue;
    seen.add(it.key);
    it.n = ++arrivals;
    state.events.push(it);
  }
  state.events.sort((a, b) => (b.ts - a.ts) || (b.n - a.n));
  state.events.length = Math.min(state.events.length, ACTIVITY_MAX);
  clear($('#activity-list')).append(...state.events.map(activityLine));
}

/* What happened before the page opened: once, at login. */
async function loadActivity() {
  const s = state.session;
  try {
    const d = await api('/v1/audit?order=newest&limit=' + ACTIVITY_MAX);
    if (s !== state.session) return;
    addActivity(...d.events.reverse().map((e) => activityOf('audit', e)));
  } catch (e) {
    if (e.status !== 401) notice('Could not read the activity: ' + failure(e), true);
  }
}

/* ---- audit viewer ---- */

async function loadAudit(after) {
  const action = $('#audit-action').value.trim();
  let q = '/v1/audit?limit=50';
  if (action) q += '&action=' + encodeURIComponent(action);
  if (after) q += '&after=' + encodeURIComponent(after);
  const s = state.session;
  try {
    const d = await api(q);
    if (s !== state.session) return;
    state.auditAfter = d.next;
    $('#audit-next').disabled = !d.next;
    clear($('#audit-table tbody')).append(...d.events.map((e) => el('tr', null,
      el('td', null, e.seq), el('td', null, e.ts), el('td', null, e.actor), el('td', null, e.action),
      el('td', null, e.object || ''))));
  } catch (e) {
    if (e.status !== 401) notice('Could not read the audit log: ' + failure(e), true);
  }
}

async function verifyAudit() {
  const v = $('#audit-verdict');
  v.hidden = true; /* no earlier verdict while this one is worked out */
  try {
    const r = await api('/v1/audit/verify');
    v.textContent = r.ok
      ? `Verified: ${r.events} events, ${r.checkpoints} checkpoints` + (r.signatures_checked ? ', signatures checked.' : ' (signatures not checked).')
      : `Broken at event #${r.first_bad_seq}: ${r.why}`;
    v.className = r.ok ? 'good' : 'error';
  } catch (e) {
    if (e.status === 401) return; /* logged out */
    v.textContent = 'Could not verify: ' + failure(e);
    v.className = 'error';
  }
  v.hidden = false;
}

/* ---- agent page ---- */

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
        el('span', {class: 'muted'}, (r.started_us ? utc(Number(r.started_us) / 1000) : '') + ' · ' + r.steps + ' steps · ' + r.tool_calls +
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
    if (e.status !== 401) notice('@' + handle + ': could not ' + (what === 'messages' ? 'send the message' : what) + ': ' + failure(e), true);
  }
}

async function drawAgent(handle, scroll) {
  const sec = $('#agent'), s = state.session;
  let a, events, runs;
  try {
    [a, events, runs] = await Promise.all([
      api('/v1/agents/' + encodeURIComponent(handle)),
      api('/v1/audit?order=newest&limit=30&actor=' + encodeURIComponent('agent:' + handle)),
      runsList(handle),
    ]);
  } catch (e) {
    if (e.status !== 401) notice('Could not read @' + handle + ': ' + failure(e), true);
    return;
  }
  if (state.agent !== handle || s !== state.session) return;
  const b = spentOf(handle);
  const ro = !state.canAct, tip = ro ? 'This token is read-only (viewer).' : null;
  const msg = el('input', {placeholder: 'Message to @' + handle, 'aria-label': 'message', disabled: ro});
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
      el('button', {type: 'button', class: 'pause', disabled: ro, title: tip, on: {click: () => agentAction(handle, 'pause')}}, 'Pause'),
      el('button', {type: 'button', class: 'resume', disabled: ro, title: tip, on: {click: () => agentAction(handle, 'resume')}}, 'Resume')),
    el('form', {class: 'row', on: {submit: (ev) => {
      ev.preventDefault();
      if (msg.value.trim()) agentAction(handle, 'messages', {text: msg.value.trim()});
    }}}, msg, el('button', {type: 'submit', class: 'send', disabled: ro, title: tip}, 'Send')),
    el('h3', null, 'Tasks'),
    el('div', {class: 'agent-tasks'}),
    el('h3', null, 'Runs'),
    runs,
    el('h3', null, 'What it did (audit)'),
    el('ol', {class: 'events'}, events.events.map((e) => activityLine(activityOf('audit', e)))));
  drawAgentTasks();
  sec.hidden = false;
  if (scroll) sec.scrollIntoView();
}

/* The open agent's tasks, from the board's. */
function drawAgentTasks() {
  const box = $('#agent-body .agent-tasks');
  if (!box || !state.agent) return;
  const tasks = state.tasks.filter((t) => t.assignee === state.agent);
  clear(box).append(tasks.length
    ? el('ul', null, tasks.map((t) => el('li', null, '#' + t.id + ' [' + t.status + '] ' + t.title)))
    : el('p', {class: 'muted'}, 'No tasks.'));
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
  $('#daily-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('#daily-series').addEventListener('change', drawDaily);
  $('#daily-days').addEventListener('change', changeDays);
  if (sessionStorage.getItem(TOKEN_KEY)) login(sessionStorage.getItem(TOKEN_KEY));
});
