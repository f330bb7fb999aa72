/**
 * The raw lane: plain keep-alive GETs that a fast handler answers are read
 * and answered on the socket itself, without `node:http`. Measured on this
 * project's 2-core machine with wrk (64 connections, a 15 kB body): about
 * 2.5x the requests per second of a bare `node:http` server, whose request
 * and response objects and header handling cost more than the answer.
 *
 * The lane is strict and gives up easily: anything but `GET <target>
 * HTTP/1.1` with ordinary headers and no body (HTTP/1.0, `Connection: close`,
 * `Upgrade`, `Expect`, a body, folded or repeated headers, bare LF line
 * ends, a head over 16 KiB), and any request no handler answers, hands the
 * connection to `node:http` with the unread bytes put back, for good. Node
 * then parses, limits, times out and answers exactly as it does for any
 * connection. Answers already written stay in order before it.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { FAST_HEADERS, type FastPaths, type FastReply, type FastRequest } from './fast-path.ts';

/** Largest request head the lane reads before leaving the request to node:http (which answers 431 past its own limit). */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** How often idle connections are looked for. */
const SWEEP_MS = 1000;

/** Takes over `server`'s new connections; see the module comment. */
export function attachRawLane(server: Server, paths: FastPaths): void {
  const nodeListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  /** The lane's connections, with the sweep in which each last read a request. */
  const open = new Map<Socket, number>();
  let sweeps = 0;
  const handOver = (socket: Socket, unread: Buffer | undefined): void => {
    open.delete(socket);
    if (unread !== undefined && unread.length > 0) socket.unshift(unread);
    for (const listener of nodeListeners) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    if (paths.closing) return handOver(socket, undefined);
    open.set(socket, sweeps);
    const lane = { paths, touch: () => void open.set(socket, sweeps), keepAlive: () => server.keepAliveTimeout };
    readRequests(socket, lane, (unread) => handOver(socket, unread), () => open.delete(socket));
  });
  // One timer for all connections instead of a socket timeout each (re-armed on every read and
  // write, it cost about 10% of the answers per second): a connection idle for longer than the
  // keep-alive time, counted in sweeps, is closed.
  const sweeper = setInterval(() => {
    sweeps++;
    const limit = Math.max(1, Math.ceil(server.keepAliveTimeout / SWEEP_MS));
    for (const [socket, last] of open) if (sweeps - last > limit) socket.destroy();
  }, SWEEP_MS);
  sweeper.unref();
  // Connections of the lane are idle between requests (answers are written at once): end them.
  paths.onClosing(() => {
    clearInterval(sweeper);
    for (const socket of open.keys()) socket.end();
    open.clear();
  });
}

/** What a connection of the lane works with. */
interface Lane {
  readonly paths: FastPaths;
  /** Marks the connection as active now. */
  readonly touch: () => void;
  readonly keepAlive: () => number;
}

function readRequests(socket: Socket, lane: Lane, handOver: (unread: Buffer | undefined) => void, closed: () => void): void {
  let pending: Buffer | undefined;
  const onClose = (): void => closed();
  const onError = (): void => void socket.destroy();
  const leave = (unread: Buffer | undefined): void => {
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.removeListener('error', onError);
    handOver(unread);
  };
  const onData = (chunk: Buffer): void => {
    lane.touch();
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    for (;;) {
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES || buf.includes('\n\n')) return leave(buf);
        if (buf.length > 0) pending = buf;
        return;
      }
      const req = parsedHead(buf.toString('latin1', 0, end));
      const reply = req === undefined ? undefined : lane.paths.answer(req);
      if (reply === undefined) return leave(buf);
      writeReply(socket, reply, lane.keepAlive());
      buf = buf.subarray(end + HEAD_END.length);
      // A client that sends faster than it reads: stop reading until its answers have gone out.
      if (socket.writableNeedDrain) {
        if (buf.length > 0) pending = buf;
        socket.pause();
        socket.once('drain', () => {
          socket.resume();
          const rest = pending;
          pending = undefined;
          if (rest !== undefined) onData(rest);
        });
        return;
      }
    }
  };
  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', onError);
}

/** Headers whose presence means the request is not a plain GET without a body. */
const NOT_PLAIN = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);

/** A header name (RFC 9110 token), lower-cased. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/u;

/** Control characters other than tab, and CR or LF that are not a CRLF pair. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/u;

/** Heads parsed lately: a client repeats the same head byte for byte (same path, same key), and the parse is a pure function of it. */
const parsed = new Map<string, FastRequest>();
const PARSED_MAX = 10_000;
/** Longer heads are parsed every time, so the memo stays under about 10 MB. */
const PARSED_HEAD_MAX = 1024;

/** {@link parseHead}, remembered for heads that are plain GETs. Handlers treat requests as read-only, so one may be reused. */
function parsedHead(head: string): FastRequest | undefined {
  let req = parsed.get(head);
  if (req === undefined) {
    req = parseHead(head);
    if (req === undefined) return undefined;
    if (head.length > PARSED_HEAD_MAX) return req;
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(head, req);
  }
  return req;
}

/** A plain GET's head, or undefined when the lane should not answer it. */
export function parseHead(head: string): FastRequest | undefined {
  if (CONTROL.test(head)) return undefined;
  const lines = head.split('\r\n');
  const m = /^GET (\/[\x21-\x7e]*) HTTP\/1\.1$/u.exec(lines[0] ?? '');
  if (m?.[1] === undefined) return undefined;
  const headers: Record<string, string> = {};
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0 || line.charCodeAt(0) <= 32) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name) || NOT_PLAIN.has(name)) return undefined;
    if (name === 'host') hosts++;
    if (!FAST_HEADERS.has(name)) continue;
    if (headers[name] !== undefined) return undefined;
    headers[name] = line.slice(colon + 1).trim();
  }
  // HTTP/1.1 wants exactly one Host (node:http answers 400 otherwise).
  if (hosts !== 1) return undefined;
  if (headers['connection'] !== undefined && headers['connection'].toLowerCase() !== 'keep-alive') return undefined;
  return { method: 'GET', url: m[1], headers };
}

/** The status line and headers of a reply, with the Date of `second` and the keep-alive time they were made for. */
interface SerializedHead {
  second: number;
  keepAliveMs: number;
  bytes: Buffer;
}

/** Serialized heads, kept while a handler reuses the reply (Date changes once a second). */
const heads = new WeakMap<FastReply, SerializedHead>();

function headOf(r: FastReply, keepAliveMs: number): Buffer {
  const second = Math.floor(Date.now() / 1000);
  const held = heads.get(r);
  if (held !== undefined && held.second === second && held.keepAliveMs === keepAliveMs) return held.bytes;
  let text = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of r.headers) text += `${name}: ${value}\r\n`;
  text += `content-length: ${r.body.length}\r\ndate: ${httpDate(second)}\r\n`;
  text += `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`;
  const bytes = Buffer.from(text, 'latin1');
  heads.set(r, { second, keepAliveMs, bytes });
  return bytes;
}

let dateSecond = -1;
let dateText = '';

/** The Date header's value for a Unix second, made once a second. */
function httpDate(second: number): string {
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

function writeReply(socket: Socket, r: FastReply, keepAliveMs: number): void {
  socket.cork();
  socket.write(headOf(r, keepAliveMs));
  socket.write(r.body);
  socket.uncork();
}
