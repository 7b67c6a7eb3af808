// Launches Debian's /usr/bin/chromium through playwright-core (never a
// browser download) with fake media devices and loopback ICE candidates.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eRequire } from './common.mjs';

export const chromiumPath = process.env.SFU_E2E_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', // gather 127.0.0.1 host candidates
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];

/** -> { browser, close() }; a fresh --user-data-dir each time, removed on close. */
export async function launchChromium() {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: run "bash scripts/setup.sh --e2e" (installs Debian's chromium)`);
  }
  const { chromium } = e2eRequire('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-e2e-chromium-'));
  // launchPersistentContext is the Playwright way to pass --user-data-dir.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    timeout: 30_000,
  });
  return {
    context,
    async newPage(url, label) {
      const page = await context.newPage();
      page.consoleLines = [];
      page.on('console', (m) => page.consoleLines.push(`[${label} ${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => page.consoleLines.push(`[${label} pageerror] ${e.message}`));
      await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
      await page.waitForFunction(() => window.e2eReady === true, null, { timeout: 10_000 });
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
