/**
 * The operators' web page: `GET /` serves `src/web/public/index.html`, and
 * `GET /ui/<file>` the page's scripts, styles and icons from its `ui/` folder.
 * There is no build step: the files are hand-written ES modules and CSS,
 * shipped with the package as they are.
 *
 * Every file of the folder is read once, at start, into a map keyed by its
 * name: a request is a lookup in that map, so no request path ever reaches
 * the file system (no traversal, no symlinks followed at request time). The
 * page talks only to `/public/api/v3/...` with the key the operator types.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { etagMatches } from './send-object.ts';

/** Where the page's files are. */
export const WEB_ROOT = fileURLToPath(new URL('../web/public/', import.meta.url));
/** URL prefix of the page's assets (no bucket is named `ui`: buckets end in `-public`/`-private`). */
export const ASSET_PREFIX = '/ui/';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

// Same-origin only: previews and signed URLs come from this server too.
const CSP = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; script-src 'self'; style-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** One file served by the page. */
interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Reads every servable file of `root` (subfolders included), keyed by its path below it with `/`. */
export function loadAssets(root: string = WEB_ROOT): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const type = TYPES[extname(entry.name).toLowerCase()];
    if (type === undefined) continue;
    const full = join(entry.parentPath, entry.name);
    const name = full.slice(root.length).split(/[\\/]/).filter((s) => s !== '').join('/');
    const body = readFileSync(full);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

function send(req: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  // Files are not fingerprinted: browsers revalidate every time (a 304 costs a few bytes).
  void reply.header('etag', asset.etag).header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer')
    .header('content-security-policy', CSP).type(asset.type);
  if (etagMatches(req.headers['if-none-match'], asset.etag)) return reply.code(304).send();
  return reply.send(req.method === 'HEAD' ? undefined : asset.body);
}

/** Mounts `GET|HEAD /` and `GET|HEAD /ui/*`. */
export function registerWebRoutes(app: FastifyInstance, root: string = WEB_ROOT): void {
  const assets = loadAssets(root);
  const index = assets.get('index.html');
  if (index === undefined) throw new Error(`web page missing: ${join(root, 'index.html')}`);
  app.route({ method: ['GET', 'HEAD'], url: '/', handler: async (req, reply) => send(req, reply, index) });
  app.route({
    method: ['GET', 'HEAD'],
    url: `${ASSET_PREFIX}*`,
    handler: async (req: FastifyRequest<{ Params: { '*': string } }>, reply) => {
      // Keys are paths below the page's folder: `/ui/app.js` is `ui/app.js`.
      const asset = assets.get(`${ASSET_PREFIX.slice(1)}${req.params['*']}`);
      if (asset === undefined) throw new AppError('NotFound', `no such file of the web page: ${req.params['*'].slice(0, 200)}`);
      return send(req, reply, asset);
    },
  });
}
