/**
 * Debian's Chromium driven by playwright-core for the web page's end-to-end
 * tests: launched headless without a sandbox, failing (never skipping) when
 * `/usr/bin/chromium` is missing, plus helpers to sign in, take a screenshot
 * under `test-output/web/`, and check that an `<img>` really decoded.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Screenshots for review: `<repo>/test-output/web/` (git-ignored). */
export const SCREENSHOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output', 'web');

/** Launches Chromium; throws a message naming the missing executable and how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: the web page's end-to-end tests need Debian's Chromium (apt-get install -y --no-install-recommends chromium; .ci/run does it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a full-page screenshot as `<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Signs in through the form and waits for the navigation to appear. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav').waitFor({ state: 'visible' });
}

/** What the tests read of an `<img>` (the DOM types are not in this project's TypeScript libs). */
interface ImageElement {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
  src: string;
  decode(): Promise<void>;
  addEventListener(type: 'load' | 'error', listener: () => void, options: { once: boolean }): void;
}

/**
 * Waits until the image has loaded and decoded to a real size; returns its
 * natural width and height. A grid re-rendered meanwhile replaces its images
 * (the old one then fails to decode): the locator is resolved again, a few times.
 */
export async function decodedSize(img: Locator): Promise<{ width: number; height: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await decodeOnce(img);
    } catch (err) {
      if (attempt >= 5) throw err;
      await img.page().waitForTimeout(250);
    }
  }
}

async function decodeOnce(img: Locator): Promise<{ width: number; height: number }> {
  await img.evaluate((node) => {
    const el = node as unknown as ImageElement;
    if (el.complete && el.naturalWidth > 0) return undefined;
    return new Promise<void>((resolve, reject) => {
      el.addEventListener('load', () => resolve(), { once: true });
      el.addEventListener('error', () => reject(new Error(`image failed to load: ${el.src}`)), { once: true });
    });
  });
  return img.evaluate(async (node) => {
    const el = node as unknown as ImageElement;
    await el.decode();
    return { width: el.naturalWidth, height: el.naturalHeight };
  });
}
