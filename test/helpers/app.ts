import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { dropCatalog } from './catalogs.ts';

/** A running Stowage on a loopback port with its own DATA_PATH. */
export interface TestApp {
  app: App;
  config: Config;
  baseUrl: string;
  adminKey: string;
  dataPath: string;
  /** Everything the service logged, as text (to check that secrets never appear). */
  logs(): string;
  /** POSTs JSON to `/public/api/v3/<method>` with the admin key (or `key`). */
  call(method: string, body?: unknown, key?: string | null): Promise<Response>;
  /** Like {@link call} but parses JSON and throws on non-2xx. */
  ok<T = any>(method: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** Starts Stowage with the given catalog URL and extra settings. */
export async function startTestApp(catalogUrl: string, env: Record<string, string> = {}): Promise<TestApp> {
  const dataPath = await mkdtemp(join(tmpdir(), 'stowage-test-'));
  const config = loadConfig({
    env: { DATA_PATH: dataPath, CATALOG_URL: catalogUrl, PORT: '1', LOG_LEVEL: 'debug', ...env },
    envFile: join(dataPath, 'no.env'),
  });
  const chunks: string[] = [];
  const sink = new Writable({ write(c, _e, done) { chunks.push(String(c)); done(); } });
  const app = await createApp(config, createLogger('debug', sink));
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${addr.port}`;
  const adminKey = env['STOWAGE_ADMIN_TOKEN'] ?? (await readFile(join(dataPath, 'admin.token'), 'utf8')).trim();
  const call = (method: string, body: unknown = {}, key: string | null = adminKey) =>
    fetch(`${baseUrl}/public/api/v3/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-api-key': key }) },
      body: JSON.stringify(body),
    });
  return {
    app, config, baseUrl, adminKey, dataPath, call,
    logs: () => chunks.join(''),
    ok: async (method, body) => {
      const res = await call(method, body);
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} → ${res.status}: ${text}`);
      return JSON.parse(text);
    },
    close: async () => {
      await app.close();
      await dropCatalog(catalogUrl);
      await rm(dataPath, { recursive: true, force: true });
    },
  };
}

/** Builds a multipart body of image parts named `{i}-file` as the SDK sends them. */
export function uploadForm(files: Buffer[], field = (i: number) => `${i}-file`): FormData {
  const form = new FormData();
  files.forEach((buf, i) => form.append(field(i), new Blob([buf], { type: 'image/*' }), String(i)));
  return form;
}
