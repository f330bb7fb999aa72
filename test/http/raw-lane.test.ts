/**
 * The raw lane (src/http/raw-lane.ts): plain keep-alive GETs of objects held
 * in memory answered on the socket, the same bytes and headers as the
 * routes; anything else, even pipelined on the same connection behind
 * answered requests, handed to node:http in order; what it refuses to parse.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { parseHead } from '../../src/http/raw-lane.ts';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';

/** Sends raw bytes and collects `count` HTTP/1.1 answers (Content-Length bodies) from the socket. */
async function exchange(socket: Socket, raw: string, count: number): Promise<Array<{ status: number; headers: Map<string, string>; body: Buffer }>> {
  const out: Array<{ status: number; headers: Map<string, string>; body: Buffer }> = [];
  let buf = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
        const length = Number(headers.get('content-length') ?? 0);
        if (buf.length < end + 4 + length) return;
        out.push({ status: Number(lines[0]?.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + length) });
        buf = buf.subarray(end + 4 + length);
        if (out.length === count) {
          socket.off('data', onData);
          return resolve(out);
        }
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(raw);
  });
}

describe('raw lane', () => {
  let t: TestApp;
  let path: string;
  let jpeg: Buffer;
  let port: number;
  const get = (key: string, extra = '') => `GET ${path} HTTP/1.1\r\nhost: x\r\nx-api-key: ${key}\r\n${extra}\r\n`;

  before(async () => {
    t = await startTestApp(catalogBackend('sqlite').url());
    port = Number(new URL(t.baseUrl).port);
    jpeg = await makeJpeg(64, 48, { seed: 5 });
    const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([jpeg]) });
    assert.equal(up.status, 200);
    const p = await t.ok('projects.add', { name: 'raw', workspaceId: 1, type: 'images' });
    const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
    const hash = createHash('sha256').update(jpeg).digest('base64');
    const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'a.jpg', hash }] });
    path = img.pathOriginal as string;
  });
  after(async () => { await t?.close(); });

  it('answers pipelined hits with the routes\' bytes and headers, and hands the rest to node:http in order', async () => {
    const first = await fetch(t.baseUrl + path, { headers: { 'x-api-key': t.adminKey } });
    assert.equal(first.status, 200);
    assert.deepEqual(Buffer.from(await first.arrayBuffer()), jpeg);
    const socket = connect(port, '127.0.0.1');
    try {
      const version = `POST /public/api/v3/instance.version HTTP/1.1\r\nhost: x\r\nx-api-key: ${t.adminKey}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
      const answers = await exchange(socket, get(t.adminKey) + get(t.adminKey) + version + get(t.adminKey) + get('wrong-key'), 5);
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 401]);
      for (const i of [0, 1, 3]) {
        assert.deepEqual(answers[i]?.body, jpeg);
        for (const h of ['content-type', 'etag', 'cache-control', 'accept-ranges', 'last-modified']) {
          assert.equal(answers[i]?.headers.get(h), first.headers.get(h), h);
        }
      }
      assert.match(answers[2]?.body.toString() ?? '', /version/u);
    } finally {
      socket.destroy();
    }
  });

  it('a request split across packets is answered once whole', async () => {
    await fetch(t.baseUrl + path, { headers: { 'x-api-key': t.adminKey } }).then((r) => r.arrayBuffer());
    const socket = connect(port, '127.0.0.1');
    try {
      const raw = get(t.adminKey);
      const pending = exchange(socket, raw.slice(0, 10), 1);
      await new Promise((r) => setTimeout(r, 50));
      socket.write(raw.slice(10));
      const [answer] = await pending;
      assert.equal(answer?.status, 200);
      assert.deepEqual(answer?.body, jpeg);
    } finally {
      socket.destroy();
    }
  });

  it('parses only plain GETs', () => {
    assert.deepEqual(parseHead('GET /a/b.jpg HTTP/1.1\r\nHost: x\r\nX-Api-Key:  k '), { method: 'GET', url: '/a/b.jpg', headers: { 'x-api-key': 'k' } });
    for (const head of [
      'GET /a HTTP/1.0\r\nhost: x',
      'HEAD /a HTTP/1.1\r\nhost: x',
      'POST /a HTTP/1.1\r\ncontent-length: 0',
      'GET /a HTTP/1.1\r\nhost: x\r\ncontent-length: 5',
      'GET /a HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked',
      'GET /a HTTP/1.1\r\nhost: x\r\nconnection: close',
      'GET /a HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket',
      'GET /a HTTP/1.1\r\nhost: x\r\nx-api-key: a\r\nx-api-key: b',
      'GET /a HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n folded',
      'GET /a b HTTP/1.1\r\nhost: x',
      'GET a HTTP/1.1\r\nhost: x',
      'GET /a HTTP/1.1\r\nhost: x\r\nbad header: 1',
      'GET /a HTTP/1.1\r\nx-api-key: k',
      'GET /a HTTP/1.1\r\nhost: x\r\nhost: y',
    ]) assert.equal(parseHead(head), undefined, head);
  });
});
