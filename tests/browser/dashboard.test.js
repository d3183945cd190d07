// The dashboard in headless Chromium (Debian's), driven by playwright-core.
// tests/e2e/dashboard.sh starts the server and runs this with:
//   FIRMA_URL     http://127.0.0.1:PORT
//   FIRMA_TOKEN   an owner's token
//   VIEWER_TOKEN  another token of the same owner, capped with --role viewer
//   FIRMA, FIRMA_DB  the binary and the database, for `firma approvals`
//   CONTROL_DIR   where this asks the shell to restart the server (the file
//                 restart-please holds a task title to add while it is down;
//                 the shell answers in restarted: "ok" or what went wrong)
//   ARTIFACTS     where screenshots go
// Prints TAP lines numbered from TAP_START (the shell's count so far) and
// exits non-zero if a check failed. Every wait is bounded.
'use strict';
const {chromium} = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {spawnSync} = require('child_process');

const url = process.env.FIRMA_URL;
const token = process.env.FIRMA_TOKEN;
const viewerToken = process.env.VIEWER_TOKEN;
const controlDir = process.env.CONTROL_DIR;
const artifacts = process.env.ARTIFACTS || '.';
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
let n = Number(process.env.TAP_START || 0);
let failed = 0;

function ok(desc) { console.log(`ok ${++n} - ${desc}`); }
function notOk(desc, why) {
  failed++;
  console.log(`not ok ${++n} - ${desc}`);
  for (const line of String(why).split('\n').slice(0, 20)) console.log('#   ' + line);
}
async function check(desc, fn) {
  try { await fn(); ok(desc); } catch (e) { notOk(desc, e && e.message ? e.message : e); }
}
function assert(cond, why) { if (!cond) throw new Error(why); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* The API as a script sees it (not through the page). */
async function apiCall(method, p, body, tok = token) {
  const res = await fetch(url + p, {
    method,
    headers: {'Authorization': 'Bearer ' + tok, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  return {status: res.status, data};
}
async function apiGet(p, tok) {
  const r = await apiCall('GET', p, undefined, tok);
  assert(r.status === 200, `GET ${p}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}
function firma(...args) {
  const r = spawnSync(process.env.FIRMA, args, {encoding: 'utf8', timeout: 10000});
  assert(r.status === 0, `firma ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
/* What an agent has spent and done: its budget use and its runs' steps. */
async function footprint(handle) {
  const b = await apiGet('/v1/budget');
  const runs = (await apiGet('/v1/agents/' + handle + '/runs?limit=200')).runs;
  return JSON.stringify({spent: (b.agents.find((a) => a.agent === handle) || {}).spent_usd_micro,
                         runs: runs.map((r) => [r.id, r.steps, r.tool_calls, r.usd_micro])});
}
/* The y coordinates of a path made of M/L commands. */
function pathYs(d) {
  return [...d.matchAll(/[ML]\s*([-\d.]+)[ ,]([-\d.]+)/g)].map((m) => Number(m[2]));
}

async function main() {
  fs.mkdirSync(artifacts, {recursive: true});
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'firma-chromium-'));
  // A fresh profile each time (Playwright passes it as --user-data-dir).
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    timeout: 20000,
    viewport: {width: 1280, height: 900},
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const shot = (page, name) => page.screenshot({path: path.join(artifacts, name), fullPage: true});
  const problems = [];
  // Errors the browser logs on purpose: the refused token (401), the
  // viewer's forced changes (403), and the event stream while the server
  // restarts.
  let expected = /status of 401/;
  // Every request the page makes, in order: {url, method, headers, status, done, failed}.
  const log = [];
  const eventsRequests = () => log.filter((r) => new URL(r.url).pathname === '/v1/events');
  try {
    ctx.setDefaultTimeout(10000);
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !expected.test(m.text())) problems.push('console: ' + m.text());
    });
    const entries = new Map();
    page.on('request', (r) => {
      // Requests that leave this server would be external assets.
      if (!r.url().startsWith(url)) problems.push('external request: ' + r.url());
      const e = {url: r.url(), method: r.method(), headers: r.headers(), status: 0, done: false, failed: ''};
      entries.set(r, e);
      log.push(e);
    });
    page.on('response', (res) => { const e = entries.get(res.request()); if (e) e.status = res.status(); });
    page.on('requestfinished', (r) => { const e = entries.get(r); if (e) e.done = true; });
    page.on('requestfailed', (r) => { const e = entries.get(r); if (e) { e.done = true; e.failed = r.failure().errorText; } });

    await check('the dashboard loads at / and asks for a token', async () => {
      const res = await page.goto(url + '/');
      assert(res.status() === 200, 'HTTP ' + res.status());
      const csp = res.headers()['content-security-policy'] || '';
      assert(csp.includes("default-src 'self'"), 'CSP: ' + csp);
      await page.locator('#token').waitFor({state: 'visible'});
    });

    await check("the page's Server-Sent Events parser reads the standard's framing", async () => {
      const got = await page.evaluate(() => {
        const out = [];
        const p = new SseParser((e) => out.push(e));
        // Split anywhere, CRLF torn between chunks, CR and LF endings, a
        // comment, a field without a space, data over two lines, an id with
        // no data (kept, nothing dispatched), an event with no type.
        for (const chunk of [': firma events\r\n\r\nid: a1.s0\nevent: ta', 'sk\ndata: {"seq"', ':1}\n\nid:a2.s0\rdata:x\r',
                             '\ndata: y\r\r', 'id: a3.s5\n\n', 'data: z\n\nevent: late\n']) {
          p.feed(chunk);
        }
        return {out, lastId: p.lastId};
      });
      const want = [{type: 'task', data: '{"seq":1}', id: 'a1.s0'}, {type: 'message', data: 'x\ny', id: 'a2.s0'},
                    {type: 'message', data: 'z', id: 'a3.s5'}];
      assert(JSON.stringify(got.out) === JSON.stringify(want) && got.lastId === 'a3.s5', JSON.stringify(got));
    });

    await check('a wrong token is refused with a clear 401 message', async () => {
      await page.fill('#token', 'fma_not-a-real-token');
      await page.click('#login-btn');
      const msg = page.locator('#login-error');
      await msg.waitFor({state: 'visible'});
      const text = await msg.textContent();
      assert(/401/.test(text), 'message: ' + text);
      assert(await page.locator('#app').isHidden(), 'the app is shown after a refused token');
      await shot(page, 'dashboard-login-refused.png');
    });

    // ---- a viewer's token: it sees everything and can change nothing ----

    await check('a viewer token logs in, marked read-only', async () => {
      await page.fill('#token', viewerToken);
      await page.click('#login-btn');
      await page.locator('#app').waitFor({state: 'visible'});
      const role = await page.locator('#role').textContent();
      assert(/viewer/.test(role) && /read-only/.test(role), 'role shown: ' + role);
    });

    await check('a viewer sees the approvals inbox with every decision control disabled', async () => {
      await page.locator('#approvals-list .approval[data-agent="marketing"]').waitFor();
      await page.locator('#approvals-list .approval[data-agent="cto"]').waitFor();
      const controls = page.locator('#approvals-list button, #approvals-list input');
      const n = await controls.count();
      assert(n >= 4, n + ' controls');
      const enabled = await controls.evaluateAll((els) => els.filter((e) => !e.disabled).map((e) => e.textContent || e.className));
      assert(enabled.length === 0, 'enabled for a viewer: ' + enabled.join(', '));
      assert(await page.locator('#approvals-list .read-only').isVisible(), 'no read-only note');
    });

    await check("a viewer's agent page has Pause, Resume and Send disabled", async () => {
      await page.locator('#org-tree li.agent[data-agent="cto"] button.link').first().click();
      await page.locator('#agent-body button.pause').waitFor();
      const enabled = await page.locator('#agent-body button.pause, #agent-body button.resume, #agent-body button.send, #agent-body input')
        .evaluateAll((els) => els.filter((e) => !e.disabled).map((e) => e.className || e.tagName));
      assert(enabled.length === 0, 'enabled for a viewer: ' + enabled.join(', '));
    });

    expected = /status of (401|403)/;
    await check("a viewer's forced approval shows the API's 403 and decides nothing", async () => {
      const item = page.locator('#approvals-list .approval[data-agent="marketing"]');
      const id = Number(await item.getAttribute('data-approval-id'));
      const btn = item.locator('button.approve');
      await btn.evaluate((b) => { b.disabled = false; });
      await btn.click();
      const n = page.locator('#notice.error');
      await n.waitFor({state: 'visible'});
      const text = await n.textContent();
      assert(/403/.test(text) && /needs the operator role/.test(text) && text.includes('#' + id), 'notice: ' + text);
      const pending = (await apiGet('/v1/approvals')).approvals.map((a) => a.id);
      assert(pending.includes(id), 'approval #' + id + ' is no longer pending: ' + pending);
    });

    await check("a viewer's forced pause shows the API's 403 and the agent is not paused", async () => {
      const btn = page.locator('#agent-body button.pause');
      await btn.evaluate((b) => { b.disabled = false; });
      await btn.click();
      const n = page.locator('#notice.error', {hasText: '@cto'});
      await n.waitFor({state: 'visible'});
      const text = await n.textContent();
      assert(/403/.test(text) && /needs the operator role/.test(text), 'notice: ' + text);
      const cto = await apiGet('/v1/agents/cto');
      assert(cto.status !== 'paused', 'the CTO is paused');
      await shot(page, 'dashboard-viewer.png');
    });

    await check("logging out ends the viewer's session and its event stream", async () => {
      const streams = eventsRequests();
      assert(streams.length === 1 && streams[0].status === 200 && !streams[0].done,
             'event streams before logout: ' + JSON.stringify(streams));
      await page.click('#logout');
      await page.locator('#login').waitFor({state: 'visible'});
      for (let i = 0; i < 50 && !streams[0].done; i++) await sleep(100);
      assert(streams[0].failed, 'the stream is still open after logout: ' + JSON.stringify(streams[0]));
      assert(await page.evaluate(() => sessionStorage.getItem('firma.token')) === null, 'still stored');
      assert(await page.locator('#approvals-list .approval').count() === 0, "the viewer's data is still in the page");
    });

    // ---- the owner ----

    let loginAt = 0;
    await check('logs in with the token, with one event stream open', async () => {
      loginAt = log.length;
      await page.fill('#token', token);
      await page.click('#login-btn');
      await page.locator('#app').waitFor({state: 'visible'});
      await page.locator('#company').filter({hasText: 'member:ana'}).waitFor();
      const stored = await page.evaluate(() => sessionStorage.getItem('firma.token'));
      assert(stored === token, 'the token is not in sessionStorage');
      await page.locator('#live[data-state="on"]').waitFor();
      const open = eventsRequests().filter((r) => !r.done);
      assert(open.length === 1 && open[0].headers.authorization === 'Bearer ' + token,
             'open streams: ' + JSON.stringify(open.map((r) => r.headers.authorization.slice(0, 12))));
      assert(!log.some((r) => r.url.includes(token)), 'the token is in a URL');
      assert(!(await page.locator('#approvals-list button.approve').first().isDisabled()), 'approve is disabled for the owner');
    });

    await check('the org chart shows the CEO, and the CTO under the CEO', async () => {
      const ceo = page.locator('#org-tree li.agent[data-agent="ceo"]');
      await ceo.waitFor();
      const cto = ceo.locator('li.agent[data-agent="cto"]');
      await cto.waitFor();
      const text = await cto.locator('.node').first().textContent();
      assert(/@cto/.test(text) && /(active|paused|idle|working)/.test(text), 'CTO node: ' + text);
      assert(/\$\d+\.\d\d/.test(text), 'no budget use in: ' + text);
      await shot(page, 'dashboard-org.png');
    });

    const board = (status) => page.locator(`#board-columns .column[data-status="${status}"]`);
    const slack = (status) => board(status).locator('.card', {hasText: 'Ship Slack alerts'});

    await check("the CTO's task is on the board, not yet done", async () => {
      await slack('doing').waitFor();
      assert(await slack('done').count() === 0, 'already done');
    });

    // ---- live activity: the event stream, no polling ----

    await check('a task added over the API shows in the activity and on the board, without a reload', async () => {
      await page.evaluate(() => { window.__sameDocument = true; });
      // With the CTO's page open: an event about no agent must not read it again.
      await page.locator('#org-tree li.agent[data-agent="cto"] button.link').first().click();
      await page.locator('#agent-body', {hasText: 'Ship Slack alerts'}).waitFor();
      const from = log.length;
      const title = 'Live: call the three trial users who churned';
      const r = await apiCall('POST', '/v1/tasks', {title});
      assert(r.status === 201, 'POST /v1/tasks: ' + r.status);
      await board('todo').locator('.card', {hasText: title}).waitFor({timeout: 5000});
      await page.locator('#activity-list li', {hasText: 'task.add task:' + r.data.id}).waitFor({timeout: 5000});
      assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
      const audit = log.slice(from).filter((x) => x.url.includes('/v1/audit'));
      assert(audit.length === 0, 'the activity was read with ' + audit.map((x) => x.url).join(', '));
      // The event changes the board only: its refresh (done, since the card
      // is there) read neither the org chart nor the open agent page.
      const reread = log.slice(from).filter((x) => /\/v1\/(org|agents\/cto)/.test(x.url));
      assert(reread.length === 0, 'a task event read ' + reread.map((x) => x.url).join(', '));
      const streams = eventsRequests().filter((x) => log.indexOf(x) >= loginAt);
      assert(streams.length === 1 && !streams[0].done, 'event streams since login: ' + streams.length);
    });

    await check('no polling: while no event comes, the page makes no request', async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const events0 = await page.getAttribute('#live', 'data-events');
        await sleep(2000); // time for the refreshes events before asked for
        const from = log.length;
        await sleep(7000);
        if (await page.getAttribute('#live', 'data-events') !== events0) continue;
        const made = log.slice(from).map((x) => x.method + ' ' + x.url);
        assert(made.length === 0, 'requests in 7 s without events:\n' + made.join('\n'));
        return;
      }
      throw new Error('events kept coming: no quiet 7 s to watch');
    });

    // ---- deciding approvals ----

    const reason = 'No more budget for drafts this month; wait for the next one.';
    let marketingBefore = '';
    await check("denies marketing's held call from the inbox with a reason", async () => {
      const item = page.locator('#approvals-list .approval[data-agent="marketing"]');
      await item.waitFor();
      const id = Number(await item.getAttribute('data-approval-id'));
      marketingBefore = await footprint('marketing');
      await item.locator('button.deny').click();
      await item.locator('input.why').fill(reason);
      await shot(page, 'dashboard-deny.png');
      await item.locator('button.deny-confirm').click();
      await page.locator('#notice', {hasText: 'Denied #' + id}).waitFor();
      await item.waitFor({state: 'detached'});
      const a = (await apiGet('/v1/approvals?status=all')).approvals.find((x) => x.id === id);
      assert(a && a.status === 'denied' && a.why === reason && a.decided_by === 'member:ana',
             'over the API: ' + JSON.stringify(a));
      const cli = JSON.parse(firma('approvals', '--all', '--json'));
      const c = (Array.isArray(cli) ? cli : cli.approvals).find((x) => x.id === id);
      assert(c && c.status === 'denied' && c.why === reason, 'firma approvals: ' + JSON.stringify(c));
      assert(firma('approvals', '--all').includes('denied by member:ana: ' + reason), 'firma approvals does not say who denied it and why');
    });

    await check("approves the CTO's pending approval from the inbox", async () => {
      const item = page.locator('#approvals-list .approval[data-agent="cto"]', {hasText: 'exec'});
      await item.waitFor();
      await shot(page, 'dashboard-approvals.png');
      await item.locator('button.approve').click();
      await page.locator('#notice', {hasText: 'Approved'}).waitFor();
      await item.waitFor({state: 'detached'});
    });

    await check('the task moves to done once the CTO has run the approved call', async () => {
      // The runtime wakes the CTO, runs the call and the CTO completes the
      // task; the task's events make the page read the board again.
      await slack('done').waitFor({timeout: 20000});
      assert(await slack('doing').count() === 0, 'still in doing as well');
      // The CTO's run after the approval, step by step, as it happened.
      await page.locator('#activity-list li', {hasText: 'complete_task'}).first().waitFor({timeout: 5000});
      await shot(page, 'dashboard-task-done.png');
    });

    await check('the denied call did not run: marketing spent nothing more and its task is not done', async () => {
      // By now the runtime has woken and run the CTO since the denial.
      const after = await footprint('marketing');
      assert(after === marketingBefore, `before ${marketingBefore}\nafter  ${after}`);
      const tasks = (await apiGet('/v1/tasks?assignee=marketing')).tasks;
      const post = tasks.find((t) => /annual-plan/.test(t.title));
      assert(post && post.status !== 'done', 'its task: ' + JSON.stringify(post));
      await board(post.status).locator('.card', {hasText: post.title}).waitFor();
    });

    await check('a call that gets no answer says so in words, not "Failed to fetch"', async () => {
      const was = expected;
      expected = new RegExp(was.source + '|ERR_FAILED');
      await page.route('**/v1/audit/verify', (r) => r.abort('failed'));
      try {
        await page.click('#audit-verify');
        const v = page.locator('#audit-verdict.error');
        await v.waitFor({state: 'visible'});
        const text = await v.textContent();
        assert(/no answer from the firma server at 127\.0\.0\.1:\d+/.test(text), text);
      } finally {
        await page.unroute('**/v1/audit/verify');
        expected = was;
      }
    });

    await check('the audit log verifies from the page', async () => {
      await page.click('#audit-verify');
      const v = page.locator('#audit-verdict');
      await v.waitFor({state: 'visible'});
      const text = await v.textContent();
      assert(/^Verified/.test(text), text);
      assert(await page.locator('#audit-table tbody tr').count() > 0, 'no audit rows');
    });

    await check("the agent page shows the CTO's runs and a run's steps", async () => {
      await page.locator('#org-tree li.agent[data-agent="cto"] button.link').first().click();
      await page.locator('#agent-body', {hasText: 'Ship Slack alerts'}).waitFor();
      const run = page.locator('#agent-body li.run').last(); // its first run: the Slack task
      await run.locator('button.run-toggle').click();
      const steps = page.locator('#agent-body li.run').last().locator('li.step');
      await page.locator('#agent-body li.step', {hasText: 'make test'}).first().waitFor();
      const text = (await steps.allTextContents()).join('\n');
      assert(/prompt \d+ B/.test(text) && /write_file/.test(text), 'steps: ' + text.slice(0, 500));
      await shot(page, 'dashboard-agent.png');
    });

    await check("this period's spend is charted per agent and per team", async () => {
      const labels = await page.locator('#spend-body svg text.label').allTextContents();
      assert(labels.includes('@cto') && labels.includes('team @ceo'), 'labels: ' + labels.join(', '));
    });

    // ---- spend per day ----

    const series = page.locator('#daily-chart svg path.series');
    const seriesOf = () => series.evaluateAll((ps) => ps.map((p) => ({
      key: p.dataset.series, total: Number(p.dataset.total), points: Number(p.dataset.points), d: p.getAttribute('d')})));
    const waitSeries = async (want, what) => {
      let got = [];
      for (let i = 0; i < 50; i++) {
        got = await seriesOf();
        if (JSON.stringify(got.map((s) => [s.key, s.total, s.points])) === JSON.stringify(want)) return got;
        await sleep(100);
      }
      throw new Error(`${what}: want ${JSON.stringify(want)}, drawn ${JSON.stringify(got.map((s) => [s.key, s.total, s.points]))}`);
    };
    const sum = (v) => v.reduce((t, x) => t + Number(x), 0);
    // What a team @ceo chart over `days` must draw, from the API: the team's
    // total, then a line per member who spent (the CEO and everyone under it).
    const ceoTeam = async (days) => {
      const d = await apiGet('/v1/spend/daily?days=' + days);
      const org = await apiGet('/v1/org');
      const team = ['ceo'];
      for (let i = 0; i < team.length; i++) {
        for (const a of org.agents) if (a.manager === team[i]) team.push(a.handle);
      }
      const rows = team.map((h) => d.agents.find((a) => a.agent === h)).filter(Boolean);
      return [['team:ceo', sum(rows.map((r) => sum(r.usd_micro))), days],
              ...rows.map((r) => ['agent:' + r.agent, sum(r.usd_micro), days])];
    };
    let ctoPath = '';

    await check('spend per day: an agent is one line, with what the API says it spent', async () => {
      const d = await apiGet('/v1/spend/daily?days=30');
      const cto = d.agents.find((a) => a.agent === 'cto');
      assert(cto && sum(cto.usd_micro) > 0, 'the CTO spent nothing: ' + JSON.stringify(d.agents));
      await page.selectOption('#daily-series', 'agent:cto');
      const got = await waitSeries([['agent:cto', sum(cto.usd_micro), 30]], '@cto');
      const ys = pathYs(got[0].d), base = Math.max(...ys);
      assert(ys.length === 30 && ys.some((y) => y < base - 1), 'a flat or short line: ' + got[0].d);
      ctoPath = got[0].d;
    });

    await check('spend per day: a team is its total and a line per member who spent', async () => {
      const want = await ceoTeam(30);
      assert(want.length >= 4, 'members who spent: ' + want.slice(1).map((r) => r[0]));
      await page.selectOption('#daily-series', 'team:ceo');
      const got = await waitSeries(want, 'team @ceo');
      assert(got[0].d !== ctoPath, "the team's line is the CTO's");
      const legend = await page.locator('#daily-legend li').count();
      assert(legend === want.length, legend + ' legend entries');
    });

    await check('spend per day: the range selector reads 7 days', async () => {
      const from = log.length;
      await page.selectOption('#daily-days', '7');
      await waitSeries(await ceoTeam(7), '7 days');
      assert(log.slice(from).some((x) => x.url.endsWith('/v1/spend/daily?days=7')), 'no request for 7 days');
      await page.locator('#spend').screenshot({path: path.join(artifacts, 'dashboard-spend.png')});
    });

    await check('text from the API is shown as text, not markup', async () => {
      // A task whose title is markup, added over the API: its card must show
      // the title as text, and no element may come from it.
      const title = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';
      const res = await apiCall('POST', '/v1/tasks', {title});
      assert(res.status === 201, 'POST /v1/tasks: ' + res.status);
      const card = board('todo').getByText(title, {exact: true});
      await card.waitFor({state: 'visible', timeout: 15000});
      const injected = await board('todo').locator('img, script').count();
      assert(injected === 0, injected + ' element(s) made from the title');
      assert(await page.evaluate(() => window.__xss === undefined), 'the title ran as script');
    });

    // ---- a dropped stream ----

    await check('after the server restarts, the stream resumes from Last-Event-ID with what happened meanwhile', async () => {
      const lastId = await page.getAttribute('#live', 'data-last-id');
      assert(/^a\d+\.s\d+$/.test(lastId || ''), 'last event id: ' + lastId);
      const before = eventsRequests().length;
      const title = 'Added while the server was down';
      expected = /status of (401|403)|ERR_(CONNECTION_REFUSED|CONNECTION_RESET|INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE)/;
      const retrying = page.locator('#live[data-state="retry"]').waitFor({timeout: 10000});
      fs.writeFileSync(path.join(controlDir, 'restart.tmp'), title);
      fs.renameSync(path.join(controlDir, 'restart.tmp'), path.join(controlDir, 'restart-please'));
      await retrying;
      const answer = path.join(controlDir, 'restarted');
      for (let i = 0; i < 200 && !fs.existsSync(answer); i++) await sleep(100);
      assert(fs.existsSync(answer), 'the shell did not restart the server');
      const said = fs.readFileSync(answer, 'utf8').trim();
      assert(said === 'ok', 'restart: ' + said);
      await page.locator('#live[data-state="on"]').waitFor({timeout: 15000});
      await board('todo').locator('.card', {hasText: title}).waitFor({timeout: 5000});
      const added = (await apiGet('/v1/tasks?status=todo&limit=500')).tasks.find((t) => t.title === title);
      assert(added, 'no task ' + title);
      await page.locator('#activity-list li', {hasText: 'task.add task:' + added.id}).waitFor({timeout: 5000});
      const again = eventsRequests().slice(before).filter((r) => r.status === 200);
      assert(again.length === 1 && again[0].headers['last-event-id'] === lastId,
             `reconnections: ${JSON.stringify(again.map((r) => r.headers['last-event-id']))}, last id ${lastId}`);
      assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
    });

    await check('one column on a phone-sized screen', async () => {
      await page.setViewportSize({width: 390, height: 844});
      const org = await page.locator('#org').boundingBox();
      const appr = await page.locator('#approvals').boundingBox();
      const chart = await page.locator('#daily-chart svg').boundingBox();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(appr.y > org.y + org.height - 1 && Math.abs(appr.x - org.x) < 2,
             `sections side by side: org ${JSON.stringify(org)} approvals ${JSON.stringify(appr)}`);
      assert(width <= 390, 'the page scrolls sideways: ' + width + 'px');
      assert(chart && chart.x >= 0 && chart.x + chart.width <= 390, 'the spend chart: ' + JSON.stringify(chart));
      await shot(page, 'dashboard-phone.png');
    });

    await check('logging out forgets the token and ends the event stream', async () => {
      await page.click('#logout');
      await page.locator('#login').waitFor({state: 'visible'});
      const stored = await page.evaluate(() => sessionStorage.getItem('firma.token'));
      assert(stored === null, 'still stored');
      for (let i = 0; i < 50 && eventsRequests().some((r) => !r.done); i++) await sleep(100);
      assert(!eventsRequests().some((r) => !r.done), 'an event stream is still open');
    });

    await check('no page errors, no console errors, nothing fetched from elsewhere', async () => {
      assert(problems.length === 0, problems.join('\n'));
    });
  } finally {
    await ctx.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
  notOk('the browser test ran to its end', e && e.stack ? e.stack : e);
  process.exit(1);
});
