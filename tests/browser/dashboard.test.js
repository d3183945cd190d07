// The dashboard in headless Chromium (Debian's), driven by playwright-core.
// tests/e2e/dashboard.sh starts the server and runs this with:
//   FIRMA_URL    http://127.0.0.1:PORT
//   FIRMA_TOKEN  an owner's token
//   ARTIFACTS    where screenshots go
// Prints TAP lines numbered from TAP_START (the shell's count so far) and
// exits non-zero if a check failed. Every wait is bounded.
'use strict';
const {chromium} = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const url = process.env.FIRMA_URL;
const token = process.env.FIRMA_TOKEN;
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
  try {
    ctx.setDefaultTimeout(10000);
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    // Requests that leave this server would be external assets.
    page.on('request', (r) => { if (!r.url().startsWith(url)) problems.push('external request: ' + r.url()); });

    await check('the dashboard loads at / and asks for a token', async () => {
      const res = await page.goto(url + '/');
      assert(res.status() === 200, 'HTTP ' + res.status());
      const csp = res.headers()['content-security-policy'] || '';
      assert(csp.includes("default-src 'self'"), 'CSP: ' + csp);
      await page.locator('#token').waitFor({state: 'visible'});
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

    await check('logs in with the token', async () => {
      await page.fill('#token', token);
      await page.click('#login-btn');
      await page.locator('#app').waitFor({state: 'visible'});
      await page.locator('#company').filter({hasText: 'member:ana'}).waitFor();
      const stored = await page.evaluate(() => sessionStorage.getItem('firma.token'));
      assert(stored === token, 'the token is not in sessionStorage');
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
      // task; the page polls every few seconds.
      await slack('done').waitFor({timeout: 20000});
      assert(await slack('doing').count() === 0, 'still in doing as well');
      await shot(page, 'dashboard-task-done.png');
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

    await check('spend is charted per agent and per team', async () => {
      const labels = await page.locator('#spend-body svg text.label').allTextContents();
      assert(labels.includes('@cto') && labels.includes('team @ceo'), 'labels: ' + labels.join(', '));
    });

    await check('text from the API is shown as text, not markup', async () => {
      // A task whose title is markup, added over the API: its card must show
      // the title as text, and no element may come from it.
      const title = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';
      const res = await fetch(url + '/v1/tasks', {
        method: 'POST',
        headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'},
        body: JSON.stringify({title}),
      });
      assert(res.status === 201, 'POST /v1/tasks: ' + res.status);
      const card = board('todo').getByText(title, {exact: true});
      await card.waitFor({state: 'visible', timeout: 15000});
      const injected = await board('todo').locator('img, script').count();
      assert(injected === 0, injected + ' element(s) made from the title');
      assert(await page.evaluate(() => window.__xss === undefined), 'the title ran as script');
    });

    await check('one column on a phone-sized screen', async () => {
      await page.setViewportSize({width: 390, height: 844});
      await page.waitForTimeout(200);
      const org = await page.locator('#org').boundingBox();
      const appr = await page.locator('#approvals').boundingBox();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(appr.y > org.y + org.height - 1 && Math.abs(appr.x - org.x) < 2,
             `sections side by side: org ${JSON.stringify(org)} approvals ${JSON.stringify(appr)}`);
      assert(width <= 390, 'the page scrolls sideways: ' + width + 'px');
      await shot(page, 'dashboard-phone.png');
    });

    await check('logging out forgets the token', async () => {
      await page.click('#logout');
      await page.locator('#login').waitFor({state: 'visible'});
      const stored = await page.evaluate(() => sessionStorage.getItem('firma.token'));
      assert(stored === null, 'still stored');
    });

    await check('no page errors, no console errors, nothing fetched from elsewhere', async () => {
      // The refused token's 401 is logged by Chromium as a failed resource.
      const real = problems.filter((p) => !/status of 401/.test(p));
      assert(real.length === 0, real.join('\n'));
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
