/**
 * The nginx anchor: our own config in a temp folder, one worker, loopback
 * port, serving a folder with sendfile and no access log.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { track } from './child-registry.ts';
import { freePort } from './free-port.ts';
import { logTail, sleep, stopChild } from './stowage-process.ts';

export interface NginxInstance {
  pid: number;
  port: number;
  baseUrl: string;
  stop(): Promise<void>;
}

function nginxConf(dir: string, root: string, port: number): string {
  // Workers of a root master would run as "nobody", which cannot enter a 0700 mkdtemp folder.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  # nginx closes a keep-alive connection after 1,000 requests by default; Node
  # never does, so lift the cap to compare request handling, not reconnects.
  keepalive_requests 1000000;
  types { image/jpeg jpg jpeg; image/png png; }
  default_type application/octet-stream;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }
}
`;
}

/** Starts nginx serving `root`; `probePath` must answer 200 before this returns. */
export async function startNginx(nginxPath: string, dir: string, root: string, probePath: string): Promise<NginxInstance> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, nginxConf(dir, root, port));
  // -e: start-up errors go to our folder, not /var/log/nginx.
  const child = spawn(nginxPath, ['-p', dir, '-c', confPath, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  track(child);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitServing(`${baseUrl}${probePath}`, () => child.exitCode !== null, join(dir, 'error.log'));
  return {
    pid: child.pid ?? 0, port, baseUrl,
    // SIGTERM is nginx's fast shutdown: the master stops its worker and exits.
    stop: () => stopChild(child, 10_000),
  };
}

async function waitServing(url: string, exited: () => boolean, errorLog: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (exited()) throw new Error(`nginx exited during start-up:\n${logTail(errorLog)}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
      throw new Error(`nginx answered ${res.status} for ${url}:\n${logTail(errorLog)}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('nginx answered')) throw err;
    }
    await sleep(100);
  }
  throw new Error(`nginx did not serve ${url} within 10s:\n${logTail(errorLog)}`);
}
