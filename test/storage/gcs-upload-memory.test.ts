/**
 * Memory held by a large GCS upload: 256 MiB of unknown length, fresh 1 MiB
 * buffers, through the store to a loopback server that counts and drops what
 * it receives. fetch (undici) kept every chunk of a streamed request body
 * alive until the request completed (nodejs/undici#4058), so the old upload
 * held the whole body; the store must hold about one chunk.
 *
 * Not timed: memory is sampled after a forced garbage collection every 16 MiB
 * of body, so it counts what is still referenced, whatever the machine's speed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGcsStore } from '../../src/storage/providers/gcs/index.ts';

const B = 'memory';
const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;

// A context created after the flag is set has `gc`, without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
// Buffers freed by a collection are otherwise released by a background thread, some time later.
setFlagsFromString('--no-concurrent-array-buffer-sweeping');
const gc = runInNewContext('gc') as () => void;

/** A sink speaking just enough of the API: bucket probe, session creation, PUTs (chunked: 308 + Range). */
function sink(req: IncomingMessage, res: ServerResponse, endpoint: string, state: { received: number }): void {
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.method === 'GET') return json(200, { name: B });
  if (req.method === 'POST') return void res.writeHead(200, { location: `${endpoint}/session` }).end();
  req.on('data', (chunk: Buffer) => {
    state.received += chunk.length;
  });
  req.on('end', () => {
    const total = /\/(\d+|\*)$/u.exec(String(req.headers['content-range']))?.[1];
    if (total === '*' && !String(req.headers['content-range']).startsWith('bytes 0-*')) {
      return void res.writeHead(308, { range: `bytes=0-${state.received - 1}` }).end();
    }
    json(200, { bucket: B, name: 'big.bin', size: String(state.received), generation: '1', etag: 'E1' });
  });
}

/** Fresh 1 MiB buffers (never reused: a retained one shows up), with live memory sampled every 16 MiB. */
function body(peaks: { rss: number; buffers: number }): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < TOTAL / MiB; i++) {
      if (i % 16 === 0) {
        gc();
        const usage = process.memoryUsage();
        peaks.rss = Math.max(peaks.rss, usage.rss);
        peaks.buffers = Math.max(peaks.buffers, usage.arrayBuffers);
      }
      yield Buffer.alloc(MiB, i % 251);
    }
  })(), { objectMode: false });
}

describe('gcs upload memory', () => {
  let server: Server;
  let endpoint = '';
  const state = { received: 0 };
  before(async () => {
    server = createServer((req, res) => sink(req, res, endpoint, state));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  for (const [mode, options] of [['one streaming request', {}], ['16 MiB chunks', { uploadChunkSize: 16 * MiB }]] as const) {
    it(`holds a bounded amount of a 256 MiB body of unknown size (${mode})`, async () => {
      const store = createGcsStore({ endpoint, ...options });
      state.received = 0;
      gc();
      const base = process.memoryUsage();
      const peaks = { rss: base.rss, buffers: base.arrayBuffers };
      try {
        const info = await store.put(B, 'big.bin', body(peaks));
        assert.equal(info.size, TOTAL);
        assert.equal(state.received, TOTAL);
      } finally {
        await store.close();
      }
      const grew = { rss: (peaks.rss - base.rss) / MiB, buffers: (peaks.buffers - base.arrayBuffers) / MiB };
      // Expected: the 8 MiB read to choose the upload type, or one 16 MiB chunk; the old upload held 64 MiB to all of it.
      assert.ok(grew.buffers < 48, `live buffers grew by ${grew.buffers.toFixed(1)} MiB during the upload`);
      assert.ok(grew.rss < 96, `RSS grew by ${grew.rss.toFixed(1)} MiB during the upload`);
    });
  }
});
