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
import type { FastPaths, FastReply, FastRequest } from './fast-path.ts';

/** Largest request head the lane reads before leaving the request to node:http (which answers 431 past its own limit). */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Takes over `server`'s new connections; see the module comment. */
export function attachRawLane(server: Server, paths: FastPaths): void {
  const nodeListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const open = new Set<Socket>();
  const handOver = (socket: Socket, unread: Buffer | undefined): void => {
    open.delete(socket);
    if (unread !== undefined && unread.length > 0) socket.unshift(unread);
    for (const listener of nodeListeners) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    if (paths.closing) return handOver(socket, undefined);
    open.add(socket);
    readRequests(socket, paths, () => server.keepAliveTimeout, (unread) => handOver(socket, unread), () => open.delete(socket));
  });
  // Connections of the lane are idle between requests (answers are written at once): end them.
  paths.onClosing(() => {
    for (const socket of open) socket.end();
    open.clear();
  });
}

function readRequests(
  socket: Socket, paths: FastPaths, keepAlive: () => number, handOver: (unread: Buffer | undefined) => void, closed: () => void,
): void {
  let pending: Buffer | undefined;
  const onTimeout = (): void => void socket.destroy();
  const onClose = (): void => closed();
  const onError = (): void => void socket.destroy();
  const leave = (unread: Buffer | undefined): void => {
    socket.removeListener('data', onData);
    socket.removeListener('timeout', onTimeout);
    socket.removeListener('close', onClose);
    socket.removeListener('error', onError);
    socket.setTimeout(0);
    handOver(unread);
  };
  const onData = (chunk: Buffer): void => {
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    for (;;) {
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES || buf.includes('\n\n')) return leave(buf);
        if (buf.length > 0) pending = buf;
        return;
      }
      const req = parseHead(buf.toString('latin1', 0, end));
      const reply = req === undefined ? undefined : paths.answer(req);
      if (reply === undefined) return leave(buf);
      writeReply(socket, reply, keepAlive());
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
  socket.setTimeout(keepAlive(), onTimeout);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', onError);
}

/** Headers whose presence means the request is not a plain GET without a body. */
const NOT_PLAIN = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);

/** A plain GET's head, or undefined when the lane should not answer it. */
export function parseHead(head: string): FastRequest | undefined {
  const lines = head.split('\r\n');
  const m = /^GET (\/[\x21-\x7e]*) HTTP\/1\.1$/u.exec(lines[0] ?? '');
  if (m?.[1] === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0 || line.charCodeAt(0) <= 32) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/u.test(name) || name in headers || NOT_PLAIN.has(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    if (/[\x00-\x08\x0a-\x1f\x7f]/u.test(value)) return undefined;
    headers[name] = value;
  }
  if (headers['connection'] !== undefined && headers['connection'].toLowerCase() !== 'keep-alive') return undefined;
  return { method: 'GET', url: m[1], headers };
}

let dateSecond = 0;
let dateText = '';

/** The Date header's value, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function writeReply(socket: Socket, r: FastReply, keepAliveMs: number): void {
  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of r.headers) head += `${name}: ${value}\r\n`;
  head += `content-length: ${r.body.length}\r\ndate: ${httpDate()}\r\nconnection: keep-alive\r\n`;
  head += `keep-alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`;
  socket.cork();
  socket.write(head, 'latin1');
  socket.write(r.body);
  socket.uncork();
}
