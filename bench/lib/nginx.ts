/**
 * The nginx anchor: our own config in a temp folder, one worker, loopback
 * port, sendfile and no access log; serving either a folder or, as a CDN in
 * front of a bucket would, a proxy_cache of an upstream.
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

/** The `server {}` block of a folder served as it is. */
function staticSite(root: string, port: number): string {
  return `server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }`;
}

/**
 * The cache zone and `server {}` block of a caching proxy: every URI is passed
 * unchanged to `upstream`, 200s are kept for 1 h under the URI alone (so the
 * x-api-key header wrk sends cannot split entries), and `x-cache-status` says
 * whether a reply was a HIT.
 */
function proxyCacheSite(dir: string, upstream: URL, port: number): string {
  return `proxy_cache_path ${join(dir, 'cache')} levels=1:2 keys_zone=bench:16m max_size=4g inactive=1h use_temp_path=off;
  upstream origin {
    server ${upstream.host};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${upstream.host};
      proxy_cache bench;
      proxy_cache_valid 200 1h;
      proxy_cache_key $uri;
      # Concurrent misses of one URI make one upstream request, as Stowage's single flight does.
      proxy_cache_lock on;
      add_header x-cache-status $upstream_cache_status;
    }
  }`;
}

function nginxConf(dir: string, site: string): string {
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
  ${site}
}
`;
}

/** Starts nginx serving `root`; `probePath` must answer 200 before this returns. */
export async function startNginx(nginxPath: string, dir: string, root: string, probePath: string): Promise<NginxInstance> {
  return launch(nginxPath, dir, probePath, (port) => staticSite(root, port));
}

/**
 * Starts nginx as a caching reverse proxy of `upstream` (`http://host:port`,
 * which must answer unsigned GETs); the cache lives in `dir`/cache.
 * `probePath` must answer 200 (and is cached by that) before this returns.
 */
export async function startNginxProxyCache(nginxPath: string, dir: string, upstream: string, probePath: string): Promise<NginxInstance> {
  return launch(nginxPath, dir, probePath, (port) => proxyCacheSite(dir, new URL(upstream), port));
}

async function launch(nginxPath: string, dir: string, probePath: string, site: (port: number) => string): Promise<NginxInstance> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, nginxConf(dir, site(port)));
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
