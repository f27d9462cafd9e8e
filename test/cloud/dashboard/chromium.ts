import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium for the weather page's browser tests, with design.md §5's flags, and what those tests read from a page. */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
/** Hard limits: a test fails, never hangs (Chromium is its own process; these timers run in ours). */
export const TEST_MS = 90_000;
export const STEP_MS = 30_000;

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (test/setup.sh does).`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_MS });
}

/** data-points of each chart, once every chart has drawn. */
export async function drawnPoints(page: Page, names: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const box = page.locator(`[data-chart="${name}"]`);
    await box.and(page.locator('[data-points]')).waitFor();
    out[name] = Number(await box.getAttribute('data-points'));
  }
  return out;
}
