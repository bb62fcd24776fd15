// Takes a screenshot of a running dashboard (how docs/screenshots/dashboard.png is made):
//   npm start   # in another terminal; copy the dashboard link it prints
//   npx tsx scripts/dashboard-screenshot.ts 'http://127.0.0.1:4517/#token=…' docs/screenshots/dashboard.png [--dark]
import { launchBrowser } from '../test/helpers/browser.ts';

const [url, out = 'docs/screenshots/dashboard.png'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!url) {
  console.error('usage: tsx scripts/dashboard-screenshot.ts DASHBOARD_URL [OUT.png] [--dark]');
  process.exit(2);
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: process.argv.includes('--dark') ? 'dark' : 'light' });
  await page.goto(url);
  await page.waitForSelector('.pill[data-connection="live"], .pill[data-connection="polling"]', { timeout: 20_000 });
  // Let the live countdowns and the charts' first samples settle.
  await page.waitForTimeout(12_000);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`saved ${out}`);
} finally {
  await browser.close();
}
