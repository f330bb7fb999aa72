/**
 * A loopback proxy in front of an S3 peer that forwards everything byte for
 * byte (signatures stay valid) but holds every PUT after the first `letThrough`
 * until `release()`: a job writing through it stops mid-run, deterministically,
 * so a test can kill its instance there.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLoopback } from '../helpers/fault-proxy.ts';

/** A running gate proxy. */
export interface GateProxy {
  readonly url: string;
  /** PUTs seen, and PUTs held now. */
  readonly stats: { puts: number; held: number };
  /** Lets the held PUTs (and every later one) through. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a gate proxy in front of `upstream` (`http://host:port`). */
export async function startGateProxy(upstream: string, letThrough: number): Promise<GateProxy> {
  const target = new URL(upstream);
  const stats = { puts: 0, held: 0 };
  const held: Array<() => void> = [];
  let open = false;
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    res.on('close', () => { if (!res.writableFinished) up.destroy(); });
    req.pipe(up);
  };
  const server = createServer((req, res) => {
    if (req.method === 'PUT' && !open && ++stats.puts > letThrough) {
      stats.held += 1;
      held.push(() => forward(req, res));
      return;
    }
    forward(req, res);
  });
  return {
    ...(await listenLoopback(server)),
    stats,
    release: () => {
      open = true;
      for (const go of held.splice(0)) go();
      stats.held = 0;
    },
  };
}
