// Drives headless Chromium (Debian's package) through the portal as a person would, and prints
// what the pages showed as one JSON object for tests/portal_browser.rs to assert on: the DOM
// after each step, Content-Security-Policy reports, screenshots, and axe-core's accessibility
// findings. It asserts nothing itself.
//
// Environment: CHARTER_PORTAL (http://127.0.0.1:PORT/portal), CHARTER_TOKENS (JSON: user ->
// token), CHARTER_PIPELINE_SERVICE and CHARTER_HOSTILE_SERVICE (namespace/name),
// CHARTER_SCREENSHOTS (a directory), CHARTER_CHROMIUM (the browser), CHARTER_BROWSER_MODULES
// (the node_modules holding puppeteer-core and axe-core).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const modules = process.env.CHARTER_BROWSER_MODULES;
const require = createRequire(join(modules, 'noop.js'));
const puppeteer = require('puppeteer-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = process.env.CHARTER_PORTAL;
const origin = new URL(base).origin;
const tokens = JSON.parse(process.env.CHARTER_TOKENS);
const shots = process.env.CHARTER_SCREENSHOTS;
const pipelineService = process.env.CHARTER_PIPELINE_SERVICE;
const hostileService = process.env.CHARTER_HOSTILE_SERVICE;

const browser = await puppeteer.launch({
  executablePath: process.env.CHARTER_CHROMIUM,
  headless: true,
  // Root in CI: Chromium's sandbox needs user namespaces it may not have there.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  defaultViewport: { width: 1280, height: 900 },
});
const report = { cspViolations: [], pageErrors: [] };

async function fresh() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) report.cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => report.pageErrors.push(String(e)));
  return { context, page };
}

const text = (page, selector) =>
  page.$eval(selector, (e) => e.textContent.trim()).catch(() => null);
const services = (page, selector) =>
  page.$$eval(`${selector} [data-service]`, (es) => es.map((e) => e.dataset.service));

async function signIn(page, token) {
  await page.goto(`${base}/login`);
  await page.type('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
}

try {
  // Nobody: no token, no data.
  {
    const { context, page } = await fresh();
    const response = await page.goto(base);
    report.anonymous = {
      status: response.status(),
      h1: await text(page, 'h1'),
      tokenField: (await page.$('#token')) !== null,
      rows: (await page.$$('[data-service]')).length,
      csp: response.headers()['content-security-policy'] ?? null,
    };
    await page.type('#token', 'not-a-token');
    await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
    report.badToken = {
      problem: await text(page, '[data-testid=problem]'),
      rows: (await page.$$('[data-service]')).length,
    };
    await context.close();
  }

  // Dana, an owner who may list Services everywhere.
  {
    const { context, page } = await fresh();
    await signIn(page, tokens.dana);
    report.catalog = {
      url: page.url(),
      viewer: await text(page, '[data-testid=viewer]'),
      rows: await services(page, '[data-testid=catalog]'),
      summary: await text(page, '[data-testid=summary]'),
      exportCsv: await page.$eval('[data-testid=export-csv]', (a) => a.getAttribute('href')),
      scripts: (await page.$$('script')).length,
    };
    await page.screenshot({ path: join(shots, 'catalog.png'), fullPage: true });

    // The filter form: a tier chosen and submitted is a link of its own.
    await page.select('#tier', 'Critical');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    report.tierFilter = { url: page.url(), rows: await services(page, '[data-testid=catalog]') };

    await page.goto(base);
    await page.type('#q', 'identity');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    report.search = { url: page.url(), rows: await services(page, '[data-testid=catalog]') };

    await page.goto(base);
    await Promise.all([page.waitForNavigation(), page.click('th a[href*="sort=availability"]')]);
    report.sorted = {
      url: page.url(),
      rows: await services(page, '[data-testid=catalog]'),
      ariaSort: await page.$$eval('th[aria-sort]', (ths) =>
        ths.filter((t) => t.getAttribute('aria-sort') !== 'none').map((t) => [t.textContent.trim(), t.getAttribute('aria-sort')]),
      ),
    };

    // Following a row's link to its service page.
    await page.goto(base);
    await Promise.all([page.waitForNavigation(), page.click('[data-service="payments/ledger"] a')]);
    report.service = {
      url: page.url(),
      title: await text(page, '[data-testid=title]'),
      availability: await text(page, '[data-testid=availability]'),
      dependencies: await page.$$eval('[data-testid=dependencies] a', (as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')])).catch(() => []),
      dependants: await page.$$eval('[data-testid=dependants] a', (as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')])).catch(() => []),
      provenance: await text(page, '[data-testid=provenance]'),
      history: await page.$$eval('[data-testid=history] tbody tr', (trs) => trs.length).catch(() => 0),
      links: await page.$$eval('[data-testid=links] a', (as) => as.map((a) => a.getAttribute('href'))).catch(() => []),
    };
    await page.screenshot({ path: join(shots, 'service.png'), fullPage: true });

    // Markup in a Service's content is text.
    const hostile = await page.goto(`${base}/services/${hostileService}`);
    report.hostile = {
      status: hostile.status(),
      title: await text(page, '[data-testid=title]'),
      description: await text(page, '[data-testid=description]'),
      scripts: (await page.$$('script')).length,
      images: (await page.$$('main img')).length,
      pwned: await page.evaluate(() => window.pwned === true),
      hrefs: await page.$$eval('main a', (as) => as.map((a) => a.getAttribute('href'))),
      text: await text(page, 'main'),
    };

    await page.goto(`${base}/portfolio`);
    report.portfolio = {
      columns: await page.$$eval('[data-phase]', (cs) => cs.map((c) => c.dataset.phase)),
      pipeline: Object.fromEntries(
        await page.$$eval('[data-phase]', (cs) =>
          cs.map((c) => [c.dataset.phase, [...c.querySelectorAll('[data-service]')].map((e) => e.dataset.service)]),
        ),
      ),
      waits: Object.fromEntries(
        await page.$$eval('[data-testid=pipeline] [data-service]', (cs) =>
          cs.map((c) => [c.dataset.service, c.querySelector('.waits')?.textContent.trim() ?? null]),
        ),
      ),
      catalog: await services(page, '[data-testid=catalog]'),
      retired: await services(page, '[data-testid=retired]'),
    };
    await page.screenshot({ path: join(shots, 'portfolio.png'), fullPage: true });

    await Promise.all([page.waitForNavigation(), page.click('.who button[type=submit]')]);
    const after = await page.goto(base);
    report.signedOut = { status: after.status(), rows: (await page.$$('[data-service]')).length };
    await context.close();
  }

  // The visitor: authenticated, no role. The catalog, not the pipeline.
  {
    const { context, page } = await fresh();
    await signIn(page, tokens.visitor);
    report.visitor = {
      viewer: await text(page, '[data-testid=viewer]'),
      rows: await services(page, '[data-testid=catalog]'),
    };
    await page.goto(`${base}/portfolio`);
    report.visitor.pipeline = await services(page, '[data-testid=pipeline]');
    report.visitor.catalog = await services(page, '[data-testid=catalog]');
    report.visitor.retired = await services(page, '[data-testid=retired]');
    const hidden = await page.goto(`${base}/services/${pipelineService}`);
    report.visitor.pipelineServiceStatus = hidden.status();
    report.visitor.pipelineServiceText = await text(page, 'main');
    await context.close();
  }

  // Accessibility: axe-core on each page. Its script is evaluated by the test, which the
  // portal's CSP would (rightly) refuse: this context alone bypasses the CSP.
  {
    const { context, page } = await fresh();
    await page.setBypassCSP(true);
    await page.setExtraHTTPHeaders({ Authorization: `Bearer ${tokens.dana}` });
    report.accessibility = {};
    for (const [name, path] of [
      ['catalog', ''],
      ['service', '/services/payments/ledger'],
      ['portfolio', '/portfolio'],
      ['login', '/login'],
    ]) {
      await page.goto(`${base}${path}`);
      await page.evaluate(axeSource);
      const result = await page.evaluate(() =>
        window.axe.run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        }),
      );
      report.accessibility[name] = {
        rules: result.passes.length + result.violations.length,
        passed: result.passes.map((r) => r.id),
        violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })),
      };
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report) + '\n');
