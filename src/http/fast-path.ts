/**
 * Requests answered before Fastify routes them: a warm preview held in
 * memory is a map lookup and one write, and Fastify's per-request work
 * (routing, request and reply objects, hooks) would cost more than that.
 * A handler answers only what it is sure of and leaves everything else —
 * conditional and range requests, signed URLs, misses — to the routes,
 * which give the same answer the slower way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';

/** Answers a request and returns true, or returns false without touching it. */
export type FastHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The fast handlers of one server; see the module comment. */
export class FastPaths {
  readonly #handlers: FastHandler[] = [];
  /** Set when the server starts closing: from then on Fastify answers everything (503s included). */
  closing = false;

  add(handler: FastHandler): void {
    this.#handlers.push(handler);
  }

  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.closing) return false;
    for (const h of this.#handlers) if (h(req, res)) return true;
    return false;
  }
}

/** Timeouts Fastify sets on a server it makes itself, which it leaves to a factory's server. */
interface ServerTimeouts {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
}

/** A Fastify `serverFactory` whose server tries `paths` before Fastify's handler. */
export function fastServerFactory(paths: FastPaths): FastifyServerFactory {
  return (handler, options) => {
    const server: Server = createServer((req, res) => {
      if (!paths.handle(req, res)) handler(req, res);
    });
    const o = options as ServerTimeouts;
    if (o.keepAliveTimeout !== undefined) server.keepAliveTimeout = o.keepAliveTimeout;
    if (o.requestTimeout !== undefined) server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout ?? 0);
    return server;
  };
}
