// What a browser downloads and how long it waits before a page is live, page by page: signs in
// to a running Gatehouse (the demo: ./end2end/demo.sh) as the demo admin and reviewer, opens each page with
// an empty cache and prints the site files fetched (count, bytes on the wire) and the time to
// `data-hydrated`. Usage: node bench/first-visit.mjs [base-url].
// Playwright from the end-to-end suite's packages (npm ci in end2end/).
const { chromium } = await import(new URL('../end2end/node_modules/@playwright/test/index.mjs', import.meta.url));

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const pages = ['/', '/apis', '/groups', '/roles', '/mappings', '/change-sets', '/reviews', '/drift',
  '/history', '/sync', '/requests', '/tokens', '/notifications', '/campaigns', '/try', '/people'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${base}/auth/login?login_hint=admin-reviewer&next=/`);
await page.waitForURL(`${base}/`);
// One API's page too: the heaviest kind.
const api = await page.evaluate(async () => {
  const r = await fetch('/apis');
  const m = (await r.text()).match(/href="(\/apis\/[^"/]+)"/);
  return m ? m[1] : null;
});
if (api) pages.push(api);
console.log('page                              files     KiB on the wire   ms to hydrated');
for (const path of pages) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  let files = 0, bytes = 0;
  const counted = new Map();
  cdp.on('Network.responseReceived', (e) => { if (e.response.url.includes('/pkg/')) counted.set(e.requestId, 0); });
  cdp.on('Network.loadingFinished', (e) => { if (counted.has(e.requestId)) { files++; bytes += e.encodedDataLength; } });
  await cdp.send('Network.enable');
  const start = Date.now();
  await page.goto(base + path);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  const ms = Date.now() - start;
  await page.waitForLoadState('networkidle');
  console.log(`${path.padEnd(34)}${String(files).padStart(5)}${(bytes / 1024).toFixed(1).padStart(18)}${String(ms).padStart(17)}`);
  await cdp.detach();
}
await browser.close();
