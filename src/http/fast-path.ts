/**
 * Requests answered before Fastify routes them: a warm preview or a small
 * original held in memory is a map lookup and one write, and Fastify's
 * per-request work (routing, request and reply objects, hooks) would cost
 * more than that. A handler answers only what it is sure of and leaves
 * everything else — conditional and range requests, signed URLs, misses —
 * to the routes, which give the same answer the slower way.
 *
 * Handlers see a plain request (method, URL, lower-case headers) and return
 * a whole reply, so the same handler serves requests read by `node:http` and
 * by the raw lane (raw-lane.ts), which answers keep-alive GETs on the socket.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { AuthService } from '../services/auth.ts';
import { attachRawLane } from './raw-lane.ts';

/**
 * The only headers a fast handler may read: the raw lane keeps just these
 * (and refuses a request that repeats one).
 */
export const FAST_HEADERS: ReadonlySet<string> = new Set(['x-api-key', 'range', 'if-none-match', 'if-modified-since', 'if-range', 'connection']);

/** What a fast handler sees of a request. */
export interface FastRequest {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly url: string;
  /** Lower-case names; see {@link FAST_HEADERS}. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * A whole 200 reply: lower-case header names, without Content-Length (taken
 * from the body). Handlers may return the same object for the same answer:
 * the raw lane then reuses its serialized headers.
 */
export interface FastReply {
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

/** A GET with a known API key and nothing that asks for more than the whole object (range, validators). */
export function plainKeyedGet(req: FastRequest, auth: AuthService): boolean {
  const h = req.headers;
  if (req.method !== 'GET' || h.range !== undefined || h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) return false;
  const key = h['x-api-key'];
  return typeof key === 'string' && auth.knownPrincipal(key) !== undefined;
}

/** Answers a request, or returns undefined to leave it to the routes. */
export type FastHandler = (req: FastRequest) => FastReply | undefined;

/** The fast handlers of one server; see the module comment. */
export class FastPaths {
  readonly #handlers: FastHandler[] = [];
  readonly #onClosing: Array<() => void> = [];
  #closing = false;

  add(handler: FastHandler): void {
    this.#handlers.push(handler);
  }

  /** The first handler's reply, or undefined (always, once the server is closing: Fastify then answers 503s). */
  answer(req: FastRequest): FastReply | undefined {
    if (this.#closing) return undefined;
    for (const h of this.#handlers) {
      const reply = h(req);
      if (reply !== undefined) return reply;
    }
    return undefined;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Marks the server as closing and tells the listeners (the raw lane ends its idle connections). */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    for (const f of this.#onClosing) f();
  }

  onClosing(f: () => void): void {
    this.#onClosing.push(f);
  }
}

/** Timeouts Fastify sets on a server it makes itself, which it leaves to a factory's server. */
interface ServerTimeouts {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
}

function sendNode(res: ServerResponse, r: FastReply): void {
  res.statusCode = 200;
  for (const [name, value] of r.headers) res.setHeader(name, value);
  res.setHeader('content-length', r.body.length);
  res.end(r.body);
}

/** A Fastify `serverFactory` whose server tries `paths` before Fastify's handler, with the raw lane in front. */
export function fastServerFactory(paths: FastPaths): FastifyServerFactory {
  return (handler, options) => {
    const server: Server = createServer((req, res) => {
      const reply = req.method === 'GET' ? paths.answer({ method: 'GET', url: req.url ?? '', headers: req.headers }) : undefined;
      if (reply === undefined) handler(req, res);
      else sendNode(res, reply);
    });
    const o = options as ServerTimeouts;
    if (o.keepAliveTimeout !== undefined) server.keepAliveTimeout = o.keepAliveTimeout;
    if (o.requestTimeout !== undefined) server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout ?? 0);
    attachRawLane(server, paths);
    return server;
  };
}
