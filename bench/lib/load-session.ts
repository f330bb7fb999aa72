/**
 * Everything a load run needs before the clients start: the cluster
 * (radosgw, a fresh PostgreSQL schema, the Stowage instances), the body pool,
 * a project with a few datasets, and the clients' shared context.
 */
import { randomBytes } from 'node:crypto';
import { callApi, createDataset } from './api-client.ts';
import { makeBodyPool } from './load-bodies.ts';
import { startLoadCluster, type LoadCluster } from './load-cluster.ts';
import { Router } from './load-http.ts';
import type { LoadContext } from './load-ops.ts';
import { UploadRegistry } from './load-registry.ts';
import { LoadStats } from './load-stats.ts';

export interface SessionOptions {
  dir: string;
  instances: number;
  memstoreBytes: number;
  /** Datasets the uploads are spread over (lists read one of them). */
  datasets: number;
  /** Projects the datasets are spread over (at most `datasets`). */
  projects: number;
  /** Hang guard of each request. */
  timeoutMs: number;
  /** Attempts per request, the first included. */
  maxAttempts: number;
}

export interface LoadSession {
  cluster: LoadCluster;
  ctx: LoadContext;
}

/** `count` datasets, spread round robin over `projects` image projects (made through instance 0). */
async function makeDatasets(cluster: LoadCluster, count: number, projects: number): Promise<number[]> {
  const api = cluster.instances[0];
  if (api === undefined) throw new Error('no instance');
  const tag = randomBytes(4).toString('hex');
  const projectIds: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i < projects) {
      const made = await createDataset(api, `load-${tag}-${i}`);
      projectIds.push(made.projectId);
      out.push(made.datasetId);
    } else {
      out.push((await callApi<{ id: number }>(api, 'datasets.add', { projectId: projectIds[i % projects], name: `ds${i}` })).id);
    }
  }
  return out;
}

/** Starts the cluster and prepares the context; the caller stops `cluster` when done. */
export async function startLoadSession(o: SessionOptions): Promise<LoadSession> {
  const pool = await makeBodyPool();
  const cluster = await startLoadCluster({ dir: o.dir, instances: o.instances, memstoreBytes: o.memstoreBytes });
  try {
    const stats = new LoadStats();
    const router = new Router(cluster.instances.map((i) => i.baseUrl), cluster.instances[0]?.apiKey ?? '');
    const ctx: LoadContext = {
      router, stats, pool, registry: new UploadRegistry(), datasets: await makeDatasets(cluster, o.datasets, Math.min(o.projects, o.datasets)),
      runId: randomBytes(6).toString('hex'), timeoutMs: o.timeoutMs, maxAttempts: o.maxAttempts,
      // Through ctx, so a caller may swap `ctx.stats` (the seeding is counted apart from the timed run).
      onFailure: (f) => ctx.stats.failure(f),
    };
    return { cluster, ctx };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
