/**
 * The operators' web page end to end, in Debian's Chromium (playwright-core)
 * against a Stowage started in-process and a real S3 peer (Ceph radosgw):
 * sign in, add a connection to radosgw (refused with wrong keys, saved with
 * the right ones) and test it, browse a bucket, link two images into a
 * dataset and see their thumbnails decode, run a dry run and a project
 * migration to 100%, read and clear the cache, bad form input, a user key
 * that does not see admin sections, and a narrow window. Screenshots of each
 * page go to test-output/web/. SQLite catalog: the API methods behind the
 * page are tested on both catalogs in api-methods.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeJpeg, makePng, makeVideo } from '../helpers/media-fixtures.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';
import { decodedSize, launchChromium, screenshot, signIn } from './browser-session.ts';
import { storeImages } from './web-fixtures.ts';

/** Connections added through the API (those of remote_links.yml left out). */
async function apiConnections(t: TestApp): Promise<Array<Record<string, any>>> {
  return (await t.ok('remote-storage.connections.list')).filter((c: { source: string }) => c.source === 'api');
}

/** Hang guard of each browser wait: generous, never a timing assertion. */
const WAIT_MS = Number(process.env["WEB_TEST_WAIT_MS"] ?? 60_000);

describe('web page in Chromium (sqlite)', () => {
  let rgw: Radosgw;
  let s3: S3Store;
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let userKey: string;
  let localProjectId: number;
  let filesDir: string;
  /** Uncaught errors of the page's scripts: there must be none. */
  const pageErrors: string[] = [];
  const bucket = `web-${randomUUID().slice(0, 8)}`;
  const target = `web-mig-${randomUUID().slice(0, 8)}`;

  before(async () => {
    browser = await launchChromium();
    rgw = await startRadosgw();
    s3 = createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
    for (const b of [bucket, target]) await s3.ensureBucket(b);
    const files: Array<[string, Buffer]> = [['photos/a.jpg', await makeJpeg(320, 240, { seed: 1 })], ['photos/b.jpg', await makeJpeg(200, 150, { seed: 2 })], ['photos/sub/c.png', await makePng(40, 30, { seed: 3 })], ['notes.txt', Buffer.from('not an image\n')]];
    const videoDir = await mkdtemp(join(tmpdir(), 'stowage-web-video-'));
    files.push(['clips/clip.mp4', await readFile(await makeVideo(videoDir, { container: 'mp4', width: 64, height: 48, seconds: 2, fps: 10 }))]);
    await rm(videoDir, { recursive: true, force: true });
    for (const [key, bytes] of files) await s3.put(bucket, key, Readable.from([bytes]), { size: bytes.length });
    // A connection of remote_links.yml: listed, testable, but read-only on the page.
    filesDir = await mkdtemp(join(tmpdir(), 'stowage-web-links-'));
    await writeFile(join(filesDir, 'remote_links.yml'), `host-files:\n  provider: fs\n  path: ${filesDir}\n  buckets:\n  - host-files\n`);
    t = await startTestApp(catalogBackend('sqlite').url(), { REMOTE_LINKS_PATH: join(filesDir, 'remote_links.yml') });
    userKey = (await t.app.services.auth.createKey('web-viewer', 'user')).key;
    const linked = await t.ok('projects.add', { name: 'cloud-photos', workspaceId: 1, type: 'images' });
    const top = await t.ok('datasets.add', { projectId: linked.id, name: 'top' });
    await t.ok('datasets.add', { projectId: linked.id, name: 'cloud', parentId: top.id });
    const local = await t.ok('projects.add', { name: 'local-photos', workspaceId: 1, type: 'images' });
    localProjectId = local.id;
    const ds = await t.ok('datasets.add', { projectId: local.id, name: 'shots' });
    await storeImages(t, ds.id, await Promise.all([1, 2, 3, 4].map((i) => makePng(30 + i, 20 + i, { seed: 10 + i }))), 'shot');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('dialog', (d) => void d.accept());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
    await s3?.close();
    await rgw?.stop();
    if (filesDir !== undefined) await rm(filesDir, { recursive: true, force: true });
  });

  it('signs in with an admin key kept in the session, never in the URL', async () => {
    await page.goto(`${t.baseUrl}/`);
    await screenshot(page, '01-sign-in');
    await page.getByLabel('API key').fill('not-a-real-key-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#api-key-error').filter({ hasText: 'not accepted' }).waitFor();
    await signIn(page, t.baseUrl, t.adminKey);
    assert.equal(await page.locator('#who-role').textContent(), 'Admin key');
    assert.ok(!page.url().includes(t.adminKey));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('stowage.apiKey')), t.adminKey);
    for (const name of ['Remote storage settings', 'Migrations', 'Cache']) assert.ok(await page.getByRole('link', { name }).isVisible(), name);
  });

  it('refuses bad connection forms next to the field and saves nothing', async () => {
    await page.getByRole('link', { name: 'Remote storage settings' }).click();
    const fileRow = page.locator('tr[data-connection="host-files"]');
    assert.match(await fileRow.textContent() ?? '', /remote_links\.yml \(read-only\)/);
    assert.equal(await fileRow.getByRole('button', { name: 'Edit' }).count(), 0);
    assert.equal(await fileRow.getByRole('button', { name: 'Remove' }).count(), 0);
    await page.getByRole('button', { name: 'Add connection' }).click();
    const form = page.getByRole('form', { name: 'New connection' });
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#conn-name-error').filter({ hasText: 'Enter a name' }).waitFor();
    assert.match(await page.locator('#conn-access_key-error').textContent() ?? '', /access key/);
    assert.match(await page.locator('#conn-buckets-error').textContent() ?? '', /at least one bucket/);
    // The seed's IAM Anywhere tab: a certificate alone is not enough.
    await page.getByLabel('Name', { exact: true }).fill('rgw-anywhere');
    await page.getByText('IAM Anywhere').click();
    await page.getByLabel('Certificate (PEM)', { exact: true }).fill('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');
    await page.getByLabel('Allowed buckets', { exact: true }).fill(bucket);
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#conn-rolesanywhere-private_key-error').filter({ hasText: 'private key' }).waitFor();
    assert.match(await page.locator('#conn-rolesanywhere-trust_anchor_arn-error').textContent() ?? '', /trust anchor/);
    await screenshot(page, '02-connection-iam-anywhere-errors');
    // A malformed Google key file is caught in the browser.
    await page.getByLabel('Provider', { exact: true }).selectOption('google');
    await page.getByLabel(/Service-account key file \(upload\)/).setInputFiles({ name: 'key.json', mimeType: 'application/json', buffer: Buffer.from('{"type": "service_account", "client_email": ') });
    await page.locator('#conn-gcs-key-error').filter({ hasText: 'not valid JSON' }).waitFor();
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#conn-gcs-key-error').filter({ hasText: 'not valid JSON' }).waitFor();
    await screenshot(page, '03-connection-google-key-error');
    assert.deepEqual(await apiConnections(t), [], 'nothing saved');
  });

  it('refuses wrong keys after testing them, saves the right ones, and tests the connection', async () => {
    const form = page.getByRole('form', { name: 'New connection' });
    await page.getByLabel('Provider', { exact: true }).selectOption('minio');
    await page.getByText('Access keys').click();
    await page.getByLabel('Name', { exact: true }).fill('rgw');
    await page.getByLabel('Endpoint', { exact: true }).fill(rgw.endpoint);
    await page.getByRole('textbox', { name: /^Access key/ }).fill(rgw.accessKey);
    await page.locator('#conn-secret_key').fill('wrong-secret-key-for-the-test-000');
    await page.getByLabel('Allowed buckets', { exact: true }).fill(bucket);
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#conn-secret_key-error').filter({ hasText: 'refused these credentials' }).waitFor();
    await page.locator('table.test-results td.result-failed').first().waitFor();
    await screenshot(page, '04-connection-wrong-keys');
    assert.deepEqual(await apiConnections(t), [], 'wrong keys are not saved');
    await page.locator('#conn-secret_key').fill(rgw.secretKey);
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    const row = page.locator('tr[data-connection="rgw"]');
    await row.waitFor();
    assert.match(await row.textContent() ?? '', /secret set/);
    assert.ok(!(await page.content()).includes(rgw.secretKey), 'the secret is never shown');
    await row.getByRole('button', { name: 'Test connection' }).click();
    const result = page.locator(`table.test-results tr[data-bucket="${bucket}"]`);
    await result.waitFor();
    for (const op of ['write', 'read', 'list', 'multipart', 'delete']) assert.equal(await result.locator(`td[data-op="${op}"]`).textContent(), 'ok', op);
    await screenshot(page, '05-connections');
  });

  it('edits a connection without re-entering its write-only secret', async () => {
    await page.locator('tr[data-connection="rgw"]').getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit rgw' });
    assert.equal(await page.locator('#conn-secret_key').inputValue(), '', 'the secret is never filled in');
    assert.match(await page.locator('#conn-secret_key').getAttribute('placeholder') ?? '', /^set .*leave empty to keep/);
    await page.getByLabel('Allowed buckets', { exact: true }).fill(`${bucket}\n${target}`);
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Connection rgw saved.').waitFor();
    await page.locator(`table.test-results tr[data-bucket="${target}"] td[data-op="write"]`, { hasText: 'ok' }).waitFor();
    const [saved] = await apiConnections(t);
    assert.deepEqual([saved?.name, saved?.buckets, saved?.secret_key, saved?.active], ['rgw', [bucket, target], '****', true]);
  });

  it('browses the bucket, previews an image and links two images into a dataset', async () => {
    await page.getByRole('link', { name: 'Cloud browser' }).click();
    await page.getByLabel('Connection and bucket').selectOption(`s3://${bucket}/`);
    await page.getByRole('button', { name: '📁 photos/' }).click();
    await page.locator('[data-file="a.jpg"]').waitFor();
    assert.ok(await page.locator('[data-folder="sub"]').isVisible());
    await page.locator('tr', { has: page.locator('[data-file="a.jpg"]') }).getByRole('button', { name: 'Preview' }).click();
    assert.deepEqual(await decodedSize(page.locator('[data-role=preview-image]')), { width: 320, height: 240 });
    await page.getByLabel('Select a.jpg').check();
    await page.getByLabel('Select b.jpg').check();
    await page.getByLabel('Project', { exact: true }).selectOption({ label: 'cloud-photos (images)' });
    await page.getByLabel('Dataset', { exact: true }).selectOption({ label: 'top/cloud' });
    await page.getByRole('button', { name: 'Link selected into the dataset' }).click();
    await page.getByText('Linked 2 of 2 file(s) into the dataset.').waitFor();
    await screenshot(page, '06-cloud-browser');
  });

  it('shows the dataset tree and the linked images\' thumbnails, decoded', async () => {
    await page.getByRole('link', { name: 'Open the dataset' }).click();
    const thumbs = page.locator('img.thumb');
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('img.thumb').length === 2);
    for (const i of [0, 1]) {
      const size = await decodedSize(thumbs.nth(i));
      assert.ok(size.width > 0 && size.height > 0, JSON.stringify(size));
    }
    assert.ok(await page.locator('[data-dataset="cloud"]').isVisible());
    await page.getByRole('button', { name: 'Details of a.jpg' }).click();
    const details = page.locator('[data-role=details]');
    await details.getByText('320 × 240').waitFor();
    assert.match(await details.textContent() ?? '', new RegExp(`linked: s3://${bucket}/photos/a\\.jpg`));
    await screenshot(page, '07-datasets');
  });

  it('shows a video entry with a thumbnail of one of its frames', async () => {
    const clips = await t.ok('projects.add', { name: 'clips', workspaceId: 1, type: 'videos' });
    const ds = await t.ok('datasets.add', { projectId: clips.id, name: 'cams' });
    await t.ok('videos.bulk.add', { datasetId: ds.id, forceMetadataForLinks: true, videos: [{ title: 'clip.mp4', link: `s3://${bucket}/clips/clip.mp4`, meta: {} }] });
    await page.goto(`${t.baseUrl}/#/datasets?project=${clips.id}&dataset=${ds.id}`);
    const thumb = page.getByRole('button', { name: 'Details of clip.mp4' }).locator('img.thumb');
    const size = await decodedSize(thumb);
    assert.ok(size.width > 0 && size.height > 0, JSON.stringify(size));
    await page.getByRole('button', { name: 'Details of clip.mp4' }).click();
    await page.locator('[data-role=details]').getByText('64 × 48').waitFor();
    await screenshot(page, '08-video');
  });

  it('runs a dry run, then a project migration to 100%', async () => {
    await page.getByRole('link', { name: 'Migrations' }).click();
    await page.getByLabel('Project', { exact: true }).selectOption({ label: 'local-photos (4 images)' });
    await page.getByLabel('Target folder').fill(`s3://${target}/moved`);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const report = page.locator('[data-role=plan-report]');
    await report.waitFor();
    assert.match(await report.textContent() ?? '', /To migrate4 \(/);
    await screenshot(page, '09-migration-dry-run');
    await page.getByRole('button', { name: 'Start migration' }).click();
    const live = page.locator('[data-role=live] [data-status="done"]');
    await live.waitFor();
    assert.match(await live.locator('[data-role=percent]').textContent() ?? '', /^100% · done/);
    assert.equal(await live.locator('[data-role=progress]').getAttribute('aria-valuenow'), '100');
    assert.equal(await live.locator('[data-role=failed]').textContent(), '0');
    await page.locator('[data-role=runs] tr[data-job] [data-role=status]', { hasText: 'done' }).first().waitFor();
    await screenshot(page, '10-migration-done');
    const jobs = await t.ok('migrations.list', {});
    assert.equal(jobs.find((j: any) => j.projectId === localProjectId)?.status, 'done');
    assert.equal((await s3.list(target, { prefix: 'moved/' })).objects.length, 4);
  });

  it('runs a storage migration (dry run, then start) to 100% where the server offers it', async (ctx) => {
    // Storage migrations as API jobs may be missing from an older server: probe with a bad target.
    const probe = await (await t.call('migrations.start', { kind: 'storage', to: 'no-such-connection' })).json() as { error: string };
    if (/projectId/.test(probe.error)) return ctx.skip(`migrations.start does not take kind "storage" here: ${probe.error}`);
    const prefix = `web-st-${randomUUID().slice(0, 6)}`;
    await page.getByText('The whole storage').click();
    await page.getByLabel('Target connection').selectOption('rgw');
    await page.getByLabel('Bucket prefix at the target').fill(prefix);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const report = page.locator('[data-role=plan-report]');
    await report.getByText('Objects in the source').waitFor();
    assert.match(await report.textContent() ?? '', new RegExp(`${prefix}-public`));
    await screenshot(page, '11-storage-dry-run');
    await page.getByRole('button', { name: 'Start migration' }).click();
    const done = page.locator('[data-role=live] [data-status="done"]', { hasText: '(storage)' });
    await done.waitFor();
    assert.match(await done.locator('[data-role=percent]').textContent() ?? '', /^100% · done/);
    assert.equal(await done.locator('[data-role=failed]').textContent(), '0');
    await screenshot(page, '12-storage-migration-done');
    assert.ok((await s3.list(`${prefix}-public`, { prefix: 'images/' })).objects.length >= 4);
  });

  it('shows cache statistics with a chart and clears a tier', async () => {
    await page.getByRole('link', { name: 'Cache' }).click();
    await page.locator('tr[data-tier="previews"]').waitFor();
    assert.ok(await page.locator('svg.chart rect.chart-size').count() >= 3);
    await page.getByRole('button', { name: 'Clear previews' }).click();
    await page.getByText(/^Cleared previews:/).waitFor();
    await screenshot(page, '13-cache');
  });

  it('fits a narrow window', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Projects & datasets' }).click();
    await page.locator('[data-dataset="cloud"]').click();
    await decodedSize(page.locator('img.thumb').first());
    const overflow = await page.evaluate(() => { const g = globalThis as any; return g.document.documentElement.scrollWidth - g.innerWidth as number; });
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
    await screenshot(page, '14-narrow-datasets');
  });

  it('uploads a Google service-account key: sent as credentials_json, never shown back', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('link', { name: 'Remote storage settings' }).click();
    await page.getByRole('button', { name: 'Add connection' }).click();
    const form = page.getByRole('form', { name: 'New connection' });
    await page.getByLabel('Provider', { exact: true }).selectOption('google');
    await page.getByLabel('Name', { exact: true }).fill('gcs-key');
    // A closed port: the test before saving fails at once, and "Save anyway" keeps the settings.
    await page.getByLabel('Endpoint', { exact: true }).fill('http://127.0.0.1:9');
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const key = { type: 'service_account', project_id: 'p1', client_email: 'stowage@p1.iam.gserviceaccount.com', private_key: privateKey };
    await page.getByLabel(/Service-account key file \(upload\)/).setInputFiles({ name: 'key.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(key)) });
    await page.getByText('stowage@p1.iam.gserviceaccount.com').waitFor();
    await page.getByLabel('Allowed buckets', { exact: true }).fill('gcs-bucket');
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Save anyway' }).click();
    const row = page.locator('tr[data-connection="gcs-key"]');
    await row.waitFor();
    assert.match(await row.textContent() ?? '', /uploaded service-account key \(set\)/);
    const saved = (await apiConnections(t)).find((c) => c.name === 'gcs-key');
    assert.deepEqual([saved?.provider, saved?.credentials_json, saved?.credentials_path], ['google', '****', null]);
    const keyBody = privateKey.split('\n')[5] ?? '';
    assert.ok(keyBody.length > 20 && !(await page.content()).includes(keyBody), 'the private key is never shown');
    const stored = await t.app.services.catalog.connections.get('gcs-key');
    assert.equal(JSON.parse(String(stored?.settings['credentials_json'] ?? '{}')).client_email, key.client_email);
    // Switching the provider while editing unsets what the old one used.
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit gcs-key' });
    await page.getByLabel('Provider', { exact: true }).selectOption('minio');
    await page.getByText('Access keys').click();
    await page.getByLabel('Endpoint', { exact: true }).fill(rgw.endpoint);
    await page.getByRole('textbox', { name: /^Access key/ }).fill(rgw.accessKey);
    await page.locator('#conn-secret_key').fill(rgw.secretKey);
    const other = `web-other-${randomUUID().slice(0, 8)}`;
    await s3.ensureBucket(other);
    await page.getByLabel('Allowed buckets', { exact: true }).fill(other);
    await edit.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Connection gcs-key saved.').waitFor();
    const switched = (await apiConnections(t)).find((c) => c.name === 'gcs-key');
    assert.deepEqual([switched?.provider, switched?.credentials_json, switched?.secret_key], ['minio', null, '****']);
    await t.ok('remote-storage.connections.remove', { name: 'gcs-key' });
  });

  it('ran every step without an uncaught script error', () => {
    assert.deepEqual(pageErrors, []);
  });

  it('hides admin sections from a user key', async () => {
    const userContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    try {
      const p = await userContext.newPage();
      p.setDefaultTimeout(WAIT_MS);
      await signIn(p, t.baseUrl, userKey);
      assert.equal(await p.locator('#who-role').textContent(), 'User key');
      for (const name of ['Remote storage settings', 'Migrations', 'Cache']) assert.equal(await p.getByRole('link', { name }).count(), 0, name);
      assert.ok(await p.getByRole('link', { name: 'Cloud browser' }).isVisible());
      await p.goto(`${t.baseUrl}/#/connections`);
      await p.getByText('This section needs an admin key.').waitFor();
      await screenshot(p, '15-user-key');
    } finally {
      await userContext.close();
    }
  });
});
