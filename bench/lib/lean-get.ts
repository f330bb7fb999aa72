/**
 * GETs for benchmarks whose client shares the machine with the server. The
 * client's CPU is taken from the server's cores, while an in-process anchor
 * pays none, so it must cost as little as possible: measured for a 15 kB
 * preview on the 2-core bench machine, `fetch` cost 1.1–1.7 ms of CPU per
 * request and a keep-alive `node:http` agent about 0.4 ms. This client writes
 * a prepared request on a kept-alive socket and reads the reply by its
 * Content-Length: nothing else (no chunked replies, no redirects), which is
 * all a bench of Stowage's GETs needs.
 */
import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** One kept-alive connection and the reply it is reading. */
interface Conn {
  socket: Socket;
  pending: ((err: Error | undefined, status: number, body: Buffer) => void) | undefined;
  buf: Buffer;
}

const idle = new Map<string, Conn[]>();

/** The body of a 200 reply; any other status rejects with the start of the body. */
export async function leanGet(url: string, headers: Record<string, string>): Promise<Buffer> {
  const u = new URL(url);
  const conn = idle.get(u.host)?.pop() ?? await open(u);
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const { status, body } = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    conn.pending = (err, status, body) => (err === undefined ? resolve({ status, body }) : reject(err));
    // Held while a reply is awaited, so the process cannot exit under it; idle sockets keep nothing alive.
    conn.socket.ref();
    conn.socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n${lines}\r\n`);
  });
  conn.socket.unref();
  const list = idle.get(u.host) ?? [];
  list.push(conn);
  idle.set(u.host, list);
  if (status !== 200) throw new Error(`${url}: ${status} ${body.toString('utf8', 0, 300)}`);
  return body;
}

function open(u: URL): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
    const conn: Conn = { socket, pending: undefined, buf: Buffer.alloc(0) };
    socket.once('connect', () => { socket.unref(); resolve(conn); });
    socket.on('error', (err) => { fail(conn, err); reject(err); });
    socket.on('close', () => fail(conn, new Error(`${u.host}: connection closed`)));
    socket.on('data', (chunk: Buffer) => {
      conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
      readReply(conn);
    });
  });
}

function fail(conn: Conn, err: Error): void {
  const pending = conn.pending;
  conn.pending = undefined;
  for (const [host, list] of idle) idle.set(host, list.filter((c) => c !== conn));
  pending?.(err, 0, Buffer.alloc(0));
}

/** Completes the pending request once its whole reply is buffered. */
function readReply(conn: Conn): void {
  const end = conn.buf.indexOf(HEAD_END);
  if (end === -1 || conn.pending === undefined) return;
  const head = conn.buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  if (length === undefined) return fail(conn, new Error(`reply without Content-Length: ${head.slice(0, 200)}`));
  const total = end + 4 + Number(length);
  if (conn.buf.length < total) return;
  const body = conn.buf.subarray(end + 4, total);
  conn.buf = conn.buf.subarray(total);
  const pending = conn.pending;
  conn.pending = undefined;
  pending(undefined, status, body);
}
