/**
 * The operations of the load test, each checking what it got back: uploads
 * (`images.bulk.upload` then `images.bulk.add`, the returned hash must be the
 * body's), downloads of `pathOriginal` (SHA-256 of the body), byte ranges (the
 * same slice of the uploaded bytes), `images.list` (every known entity intact,
 * every upload acknowledged before the call visible) and previews (an image of
 * the expected format and size, read with sharp).
 */
import sharp from 'sharp';
import { bodyBlob, bodySlice, sha256b64, uniqueBody, type BaseImage } from './load-bodies.ts';
import { CorruptBodyError, send, StatusError, withRetries, type RetryContext } from './load-http.ts';
import type { AckedUpload, UploadRegistry } from './load-registry.ts';
import type { LoadStats, OpName } from './load-stats.ts';

/** Everything an operation needs. */
export interface LoadContext extends RetryContext {
  stats: LoadStats;
  registry: UploadRegistry;
  pool: readonly BaseImage[];
  datasets: readonly number[];
  /** Unique per run, so bodies never repeat across runs on a reused store. */
  runId: string;
  timeoutMs: number;
  /** Called after each acknowledged upload, with the count so far (the fault test kills an instance here). */
  onAck?: (count: number) => void;
}

/** One client's state: its index, its PRNG, and a counter that spreads its requests over the instances. */
export interface ClientState {
  index: number;
  rand: () => number;
  turn: number;
  seq: number;
}

const API = '/public/api/v3/';
const json = (v: unknown): { headers: Record<string, string>; body: string } => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) });

/** Runs `fn` with retries, records its latency and bytes under `op`, and turns a corrupt body into a report. */
async function timed<T>(ctx: LoadContext, c: ClientState, op: OpName, fn: (instance: number) => Promise<{ value: T; bytes: number }>): Promise<T> {
  const started = performance.now();
  let instance = -1;
  try {
    const r = await withRetries(ctx, op, c.turn++, (i) => { instance = i; return fn(i); });
    ctx.stats.record(op, performance.now() - started, r.bytes);
    return r.value;
  } catch (err) {
    if (err instanceof CorruptBodyError) ctx.stats.corruptBody({ op, instance, what: err.message });
    throw err;
  }
}

function corrupt(what: string): never {
  throw new CorruptBodyError(what);
}

/** Uploads a new body made from `base` and registers it in a dataset; returns the acknowledged upload. */
export async function uploadOne(ctx: LoadContext, c: ClientState, base: BaseImage): Promise<AckedUpload> {
  const body = uniqueBody(base, `${ctx.runId}-c${c.index}-${c.seq++}`);
  await timed(ctx, c, base.large ? 'upload-large' : 'upload', async (i) => {
    const form = new FormData();
    form.append('0-file', bodyBlob(body), '0');
    const { body: reply } = await send(ctx.router, i, { method: 'POST', path: `${API}images.bulk.upload`, body: form, timeoutMs: ctx.timeoutMs }, 'images.bulk.upload');
    const [r] = JSON.parse(reply.toString('utf8')) as Array<{ hash?: string; errors?: unknown }>;
    if (r?.hash !== body.sha256) corrupt(`images.bulk.upload of ${body.size} bytes answered ${JSON.stringify(r)}, expected hash ${body.sha256}`);
    return { value: undefined, bytes: body.size };
  });
  const datasetId = ctx.datasets[Math.floor(c.rand() * ctx.datasets.length)] ?? 0;
  const title = `c${c.index}-${c.seq}.${base.format === 'png' ? 'png' : 'jpg'}`;
  const acked = await timed(ctx, c, 'add', async (i) => ({ value: await addOne(ctx, i, datasetId, title, body.sha256), bytes: 0 }));
  const u: AckedUpload = { id: acked.id, datasetId, pathOriginal: acked.pathOriginal, body, via: acked.via };
  ctx.registry.add(u);
  ctx.onAck?.(ctx.registry.acked.length);
  return u;
}

interface Added { id: number; pathOriginal: string; via: number }

/**
 * `images.bulk.add` of one image. A NONUNIQUE reply means an earlier attempt
 * whose reply was lost (its instance died) did add it: the name's id is then
 * checked to hold our hash, which acknowledges the upload as the SDK would.
 */
async function addOne(ctx: LoadContext, i: number, datasetId: number, title: string, hash: string): Promise<Added> {
  let info: { id: number; hash: string; pathOriginal: string } | undefined;
  try {
    const { body } = await send(ctx.router, i, { method: 'POST', path: `${API}images.bulk.add`, ...json({ datasetId, images: [{ title, hash }] }), timeoutMs: ctx.timeoutMs }, 'images.bulk.add');
    [info] = JSON.parse(body.toString('utf8')) as Array<typeof info>;
  } catch (err) {
    const id = err instanceof StatusError ? nonUniqueId(err.body) : undefined;
    if (id === undefined) throw err;
    const { body } = await send(ctx.router, i, { method: 'POST', path: `${API}images.info`, ...json({ id }), timeoutMs: ctx.timeoutMs }, 'images.info');
    info = JSON.parse(body.toString('utf8')) as typeof info;
    ctx.stats.recoveredAdds++;
  }
  if (info?.hash !== hash || typeof info.pathOriginal !== 'string') corrupt(`images.bulk.add of ${title} answered ${JSON.stringify(info)}, expected hash ${hash}`);
  return { id: info.id, pathOriginal: info.pathOriginal, via: i };
}

function nonUniqueId(text: string): number | undefined {
  try {
    const b = JSON.parse(text) as { details?: { type?: string; errors?: Array<{ id?: number | null }> } };
    const id = b.details?.type === 'NONUNIQUE' ? b.details.errors?.[0]?.id : undefined;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** GET of an acknowledged upload's `pathOriginal`; the body's SHA-256 must be the upload's. */
export async function downloadOne(ctx: LoadContext, c: ClientState, u: AckedUpload): Promise<void> {
  await timed(ctx, c, u.body.base.large ? 'download-large' : 'download', async (i) => ({ value: await fetchVerified(ctx, i, u), bytes: u.body.size }));
}

/** Downloads `u` through instance `i` and checks it (also used by the fault test's final check). */
export async function fetchVerified(ctx: Pick<LoadContext, 'router' | 'timeoutMs'>, i: number, u: AckedUpload): Promise<void> {
  const { body } = await send(ctx.router, i, { method: 'GET', path: u.pathOriginal, timeoutMs: ctx.timeoutMs }, `GET ${u.pathOriginal}`);
  const got = sha256b64(body);
  if (got !== u.body.sha256) corrupt(`GET ${u.pathOriginal} (image ${u.id}): ${body.length} bytes with sha256 ${got}, uploaded ${u.body.size} bytes with ${u.body.sha256}`);
}

/** A range of 1 byte to 64 KiB, sometimes a suffix (`bytes=-N`); the body must be the same slice of what was uploaded. */
export async function rangeOne(ctx: LoadContext, c: ClientState, u: AckedUpload): Promise<void> {
  const size = u.body.size;
  const suffix = c.rand() < 0.2;
  const length = 1 + Math.floor(c.rand() * Math.min(65_536, size));
  const start = suffix ? size - length : Math.floor(c.rand() * (size - length + 1));
  const end = start + length - 1;
  const header = suffix ? `bytes=-${length}` : `bytes=${start}-${end}`;
  await timed(ctx, c, 'range', async (i) => {
    const { res, body } = await send(ctx.router, i, { method: 'GET', path: u.pathOriginal, headers: { range: header }, timeoutMs: ctx.timeoutMs }, `GET ${u.pathOriginal} (${header})`);
    const cr = res.headers.get('content-range');
    if (res.status !== 206 || cr !== `bytes ${start}-${end}/${size}`) corrupt(`GET ${u.pathOriginal} ${header}: status ${res.status}, content-range ${cr}, expected bytes ${start}-${end}/${size}`);
    if (!body.equals(bodySlice(u.body, start, end))) corrupt(`GET ${u.pathOriginal} ${header}: ${body.length} bytes that are not the uploaded slice`);
    return { value: undefined, bytes: body.length };
  });
}

interface ListedImage { id: number; hash: string; pathOriginal: string }

/** The newest page of a dataset (`sort id desc`): known images intact, every upload acknowledged before the call listed. */
export async function listOne(ctx: LoadContext, c: ClientState): Promise<void> {
  const datasetId = ctx.datasets[Math.floor(c.rand() * ctx.datasets.length)] ?? 0;
  const before = ctx.registry.snapshot(datasetId);
  await timed(ctx, c, 'list', async (i) => {
    const { body } = await send(ctx.router, i, { method: 'POST', path: `${API}images.list`, ...json({ datasetId, sort: 'id', sort_order: 'desc', per_page: 50 }), timeoutMs: ctx.timeoutMs }, 'images.list');
    const page = JSON.parse(body.toString('utf8')) as { total: number; entities: ListedImage[] };
    if (page.total < before.count || (page.entities[0]?.id ?? 0) < before.maxId) {
      corrupt(`images.list of dataset ${datasetId}: total ${page.total}, newest id ${page.entities[0]?.id}, but ${before.count} uploads (newest id ${before.maxId}) were acknowledged before the call`);
    }
    for (const e of page.entities) {
      const known = ctx.registry.byId(e.id);
      if (known !== undefined && (e.hash !== known.body.sha256 || e.pathOriginal !== known.pathOriginal)) {
        corrupt(`images.list: image ${e.id} listed with hash ${e.hash} at ${e.pathOriginal}, acknowledged with ${known.body.sha256} at ${known.pathOriginal}`);
      }
    }
    return { value: undefined, bytes: body.length };
  });
}

/** A preview at half or a quarter of the width, JPEG or PNG: sharp must read it as that format and size. */
export async function previewOne(ctx: LoadContext, c: ClientState, u: AckedUpload): Promise<void> {
  const { width, height } = u.body.base;
  const w = width / (c.rand() < 0.5 ? 2 : 4);
  const h = (height * w) / width;
  const format = c.rand() < 0.75 ? 'jpeg' : 'png';
  const path = `/previews/q/ext:${format}/resize:fit:${w}:0:0/q:70/plain${u.pathOriginal}`;
  await timed(ctx, c, 'preview', async (i) => {
    const { body } = await send(ctx.router, i, { method: 'GET', path, timeoutMs: ctx.timeoutMs }, `GET ${path}`);
    const meta = await sharp(body).metadata().catch((err: unknown) => corrupt(`GET ${path}: ${body.length} bytes sharp cannot read (${String(err)})`));
    if (meta.format !== format || meta.width !== w || meta.height !== h) {
      corrupt(`GET ${path}: a ${meta.width}x${meta.height} ${meta.format}, expected ${w}x${h} ${format}`);
    }
    return { value: undefined, bytes: body.length };
  });
}
