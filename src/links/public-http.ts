/**
 * One guarded HTTP exchange for a public link: every hop (the link and each
 * redirect) is checked by the SSRF guard, and the connection goes to the
 * address the guard approved (pinned `lookup`), with the original host name
 * kept for `Host` and TLS SNI/certificate checks.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { StorageError, isStorageError } from '../storage/errors.ts';
import { linkLabel } from './public-location.ts';
import { PUBLIC_PROVIDER, checkHost, pinnedLookup, type ApprovedHost, type Resolver } from './ssrf-guard.ts';

/** Sends one request; `http.request`/`https.request` unless a test injects its own. */
export type RequestFn = (options: https.RequestOptions) => http.ClientRequest;

/** What every request of one public-link store shares. */
export interface LinkClient {
  readonly allowHosts: readonly string[];
  readonly resolver: Resolver | undefined;
  readonly maxRedirects: number;
  readonly connectTimeoutMs: number;
  /** Longest silence of the remote: before the response headers and between body bytes. */
  readonly requestTimeoutMs: number;
  readonly userAgent: string;
  readonly agents: { readonly http: http.Agent; readonly https: https.Agent };
  readonly request: RequestFn | undefined;
}

/** Bucket and key errors are reported with. */
export interface LinkContext {
  readonly bucket: string;
  readonly key: string;
}

/** One read of a link. */
export interface LinkRequest {
  readonly method: 'GET' | 'HEAD';
  readonly url: URL;
  readonly ctx: LinkContext;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The final (non-redirect) response and the URL that produced it. */
export interface LinkResponse {
  readonly res: http.IncomingMessage;
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Sends `request`, following up to `client.maxRedirects` redirects. Guard
 * refusals are `PermissionDenied`; unreachable hosts and timeouts are
 * `Unavailable`. The caller must consume or destroy the response.
 */
export async function fetchLink(client: LinkClient, request: LinkRequest): Promise<LinkResponse> {
  let url = request.url;
  for (let hop = 0; ; hop++) {
    const approved = await approve(client, url, hop > 0, request.ctx);
    const res = await send(client, url, approved, request);
    const location = REDIRECTS.has(res.statusCode ?? 0) ? res.headers.location : undefined;
    if (location === undefined) return { res, url };
    discard(res);
    if (hop >= client.maxRedirects) {
      throw linkError('Unavailable', `link ${linkLabel(request.url)} redirects more than ${client.maxRedirects} times`, request.ctx);
    }
    url = redirectTarget(location, url, request.ctx);
  }
}

/**
 * Frees the connection of a response whose body is not wanted: a small or
 * complete body is drained so the socket can be reused, a large one is cut.
 */
export function discard(res: http.IncomingMessage): void {
  const length = Number(res.headers['content-length'] ?? Infinity);
  if (res.complete || length <= 64 * 1024) res.resume();
  else res.destroy();
}

/** A {@link StorageError} of the public-link provider about `ctx`. */
export function linkError(kind: StorageError['kind'], message: string, ctx: LinkContext, cause?: unknown): StorageError {
  return new StorageError(kind, message, { bucket: ctx.bucket, key: ctx.key, provider: PUBLIC_PROVIDER, cause });
}

async function approve(client: LinkClient, url: URL, redirected: boolean, ctx: LinkContext): Promise<ApprovedHost> {
  try {
    return await checkHost(url.hostname, { allowHosts: client.allowHosts, resolver: client.resolver });
  } catch (err) {
    if (!isStorageError(err)) throw err;
    const prefix = redirected ? `redirected to ${linkLabel(url)}: ` : '';
    throw linkError(err.kind, prefix + err.message, ctx, err.cause);
  }
}

function redirectTarget(location: string, from: URL, ctx: LinkContext): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch (err) {
    throw linkError('Unavailable', `link ${linkLabel(from)} redirects to an invalid URL`, ctx, err);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw linkError('PermissionDenied', `link ${linkLabel(from)} redirects to a ${next.protocol} URL; only http(s) is followed`, ctx);
  }
  return next;
}

function send(client: LinkClient, url: URL, approved: ApprovedHost, request: LinkRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (client.request ?? transport(url))(requestOptions(client, url, approved, request));
    const timeout = (what: string, ms: number) =>
      linkError('Unavailable', `link ${linkLabel(url)} timed out: no ${what} within ${ms} ms`, request.ctx);
    const connectTimer = setTimeout(() => req.destroy(timeout('connection', client.connectTimeoutMs)), client.connectTimeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.setTimeout(client.requestTimeoutMs, () => req.destroy(timeout('answer', client.requestTimeoutMs)));
    req.on('close', () => clearTimeout(connectTimer));
    req.on('response', resolve);
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(networkError(err, url, request.ctx));
    });
    req.end();
  });
}

function transport(url: URL): RequestFn {
  return url.protocol === 'https:' ? https.request : http.request;
}

function requestOptions(client: LinkClient, url: URL, approved: ApprovedHost, request: LinkRequest): https.RequestOptions {
  const secure = url.protocol === 'https:';
  const hostname = approved.host;
  return {
    protocol: url.protocol,
    hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: url.pathname + url.search,
    method: request.method,
    // identity: a compressed body would not match the sizes and ranges we serve.
    headers: { 'user-agent': client.userAgent, accept: '*/*', 'accept-encoding': 'identity', ...request.headers },
    agent: secure ? client.agents.https : client.agents.http,
    lookup: pinnedLookup(approved),
    ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  };
}

function networkError(err: unknown, url: URL, ctx: LinkContext): unknown {
  if (isStorageError(err) || (err instanceof Error && err.name === 'AbortError')) return err;
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return linkError('Unavailable', `link ${linkLabel(url)} cannot be reached (${code})`, ctx, err);
}
