/**
 * GETs for benchmarks whose client shares the machine with the server: a
 * keep-alive `node:http` agent costs a fraction of `fetch`'s CPU per request
 * (measured for a 15 kB preview on the 2-core bench machine: about 1.1–1.7 ms
 * with fetch), and that CPU would otherwise be charged to the server's side.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** The body of a 200 reply; any other status rejects with the start of the body. */
export function leanGet(url: string, headers: Record<string, string>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`${url}: ${res.statusCode} ${body.toString('utf8', 0, 300)}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}
