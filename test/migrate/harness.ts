/**
 * A Stowage instance over a DATA_PATH the test keeps (so it can be stopped,
 * reconfigured and started again on the same data), items uploaded through
 * the API, and the `stowage` command line run as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
export const ADMIN_TOKEN = 'migrate-test-admin-token-0123456789';

/** A running instance on a loopback port. */
export interface Instance {
  app: App;
  baseUrl: string;
  call(method: string, body?: unknown): Promise<Response>;
  ok<T = any>(method: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** Starts Stowage with exactly `env` (DATA_PATH, CATALOG_URL, STORAGE_*...). */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const config = loadConfig({ env: { PORT: '1', STOWAGE_ADMIN_TOKEN: ADMIN_TOKEN, ...env }, envFile: join(env['DATA_PATH'] ?? '.', 'no.env') });
  const sink = new Writable({ write(_c, _e, done) { done(); } });
  const app = await createApp(config, createLogger('warn', sink));
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${addr.port}`;
  const call = (method: string, body: unknown = {}) => fetch(`${baseUrl}/public/api/v3/${method}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_TOKEN }, body: JSON.stringify(body),
  });
  return {
    app, baseUrl, call,
    ok: async (method, body) => {
      const res = await call(method, body);
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} → ${res.status}: ${text}`);
      return JSON.parse(text);
    },
    close: () => app.close(),
  };
}

/** base64 SHA-256, the API's `hash`. */
export function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** One item added by a test and the bytes it must always download as. */
export interface SeededItem {
  id: number;
  name: string;
  datasetId: number;
  bytes: Buffer;
}

/**
 * Creates a project with its datasets (`datasets`: names; `parent/child`
 * nests) and uploads `files[i]` into dataset `i % datasets.length`.
 */
export async function seedProject(
  t: Instance, kind: 'image' | 'video', name: string, files: Buffer[], datasets: string[] = ['ds'],
): Promise<{ projectId: number; items: SeededItem[] }> {
  const p = await t.ok('projects.add', { name, workspaceId: 1, type: `${kind}s` });
  const ids = new Map<string, number>();
  for (const path of datasets) {
    const parts = path.split('/');
    const parentId = parts.length > 1 ? ids.get(parts.slice(0, -1).join('/')) : undefined;
    ids.set(path, (await t.ok('datasets.add', { projectId: p.id, name: parts.at(-1), ...(parentId === undefined ? {} : { parentId }) })).id);
  }
  const items: SeededItem[] = [];
  for (let i = 0; i < files.length; i += 20) {
    const batch = files.slice(i, i + 20);
    const form = new FormData();
    batch.forEach((b, j) => form.append(`${j}-file`, new Blob([b]), String(j)));
    const up = await fetch(`${t.baseUrl}/public/api/v3/${kind}s.bulk.upload`, { method: 'POST', headers: { 'x-api-key': ADMIN_TOKEN }, body: form });
    if (!up.ok) throw new Error(`upload → ${up.status}: ${await up.text()}`);
    const byDataset = new Map<number, Array<{ title: string; bytes: Buffer }>>();
    for (const [j, bytes] of batch.entries()) {
      const datasetId = ids.get(datasets[(i + j) % datasets.length] ?? '') ?? 0;
      byDataset.set(datasetId, [...(byDataset.get(datasetId) ?? []), { title: `${kind}-${i + j}.${kind === 'image' ? 'png' : 'mp4'}`, bytes }]);
    }
    for (const [datasetId, entries] of byDataset) {
      const rows = await t.ok(`${kind}s.bulk.add`, { datasetId, [`${kind}s`]: entries.map((e) => ({ title: e.title, hash: sha(e.bytes), meta: {} })) });
      entries.forEach((e, k) => items.push({ id: rows[k].id, name: e.title, datasetId, bytes: e.bytes }));
    }
  }
  return { projectId: p.id, items: items.sort((a, b) => a.id - b.id) };
}

/** Polls `migrations.status` until `until` holds (default: the job stopped); returns the last status. */
export async function waitJob(t: Instance, id: number, until?: (job: Record<string, any>) => boolean): Promise<Record<string, any>> {
  const stopped = (j: Record<string, any>) => j['status'] !== 'running';
  for (;;) {
    const job = await t.ok('migrations.status', { id });
    if ((until ?? stopped)(job) || (until !== undefined && stopped(job))) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Downloads an item through the API. */
export async function download(t: Instance, kind: 'image' | 'video', id: number): Promise<Buffer> {
  const res = await t.call(`${kind}s.download`, { id });
  if (!res.ok) throw new Error(`${kind}s.download ${id} → ${res.status}: ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

/** A CLI run: exit code and output. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `stowage <args>` with exactly `env` (plus PATH); `onLine` sees each stdout line as it comes. */
export function spawnCli(args: string[], env: Record<string, string>, onLine?: (line: string, child: ChildProcess) => void): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  lines.on('line', (line) => {
    stdout += `${line}\n`;
    onLine?.(line, child);
  });
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs `stowage <args>` to the end. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return spawnCli(args, env).done;
}

/** The JSON lines of a run's stdout. */
export function jsonLines(out: string): Array<Record<string, any>> {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
}
