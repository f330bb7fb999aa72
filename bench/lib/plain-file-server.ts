/**
 * A second anchor for `serve`: the least a single Node process can do to
 * serve a file (node:http, stat + fs.createReadStream, API-key check), so the
 * gap between Stowage and nginx can be split into "Node itself" and "Stowage's
 * own path". Run as a child: `node plain-file-server.ts <root> <port> <key>`.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';
import { track } from './child-registry.ts';
import { freePort } from './free-port.ts';
import { stopChild } from './stowage-process.ts';

async function serveFile(root: string, key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers['x-api-key'] !== key) {
    res.writeHead(401).end();
    return;
  }
  const path = join(root, normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
  try {
    const st = await stat(path);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': st.size });
    createReadStream(path).pipe(res);
  } catch {
    res.writeHead(404).end();
  }
}

function main(argv: readonly string[]): void {
  const [root = '.', port = '0', key = ''] = argv;
  const server = createServer((req, res) => void serveFile(root, key, req, res));
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

if (import.meta.main) main(process.argv.slice(2));

export interface PlainServer {
  pid: number;
  baseUrl: string;
  stop(): Promise<void>;
}

/** Starts the plain server as a child on a free port; resolves once it listens. */
export async function startPlainServer(root: string, apiKey: string): Promise<PlainServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [import.meta.filename, root, String(port), apiKey], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('plain file server did not start in 10s')), 10_000);
    child.stdout.once('data', () => { clearTimeout(timer); resolve(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`plain file server exited with ${code}`)); });
  });
  return { pid: child.pid ?? 0, baseUrl: `http://127.0.0.1:${port}`, stop: () => stopChild(child, 5000) };
}
