/**
 * The scale-out setup of the load test and the load fault test: one radosgw,
 * one fresh PostgreSQL schema, and N Stowage instances as child processes
 * (`bin/stowage.mjs serve`, as `npm start`) on their own ports and DATA_PATHs,
 * sharing that catalog and that object store.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startRadosgw, type Radosgw } from '../../test/helpers/peers/radosgw.ts';
import { startStowage, type StowageInstance } from './stowage-process.ts';

/** The PostgreSQL peer (trust auth), as in test/helpers/catalogs.ts; BENCH_PG_URL overrides it. */
export const LOAD_PG_URL = process.env['BENCH_PG_URL'] ?? 'postgres://root@127.0.0.1:5432/test';

export interface ClusterOptions {
  /** Scratch folder; instance i keeps its DATA_PATH in `<dir>/instance-<i>`. */
  dir: string;
  instances: number;
  /** radosgw's RAM for objects (every upload of a load run is a new object). */
  memstoreBytes: number;
}

export interface LoadCluster {
  instances: StowageInstance[];
  catalogUrl: string;
  schema: string;
  rgw: Radosgw;
  /** Stops every instance (SIGTERM; a killed one is already gone), drops the schema, stops radosgw. */
  stop(): Promise<void>;
}

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: LOAD_PG_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${LOAD_PG_URL} (${String(err)}): start it (../shared/peers.md) or set BENCH_PG_URL`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** STORAGE_* of radosgw as Stowage's primary store (buckets `<prefix>-public|private`, made at start). */
function storageEnv(rgw: Radosgw, prefix: string): Record<string, string> {
  return {
    STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint, STORAGE_ACCESS_KEY: rgw.accessKey,
    STORAGE_SECRET_KEY: rgw.secretKey, STORAGE_BUCKET_PREFIX: prefix, STORAGE_CREATE_BUCKETS: 'true',
  };
}

/**
 * Starts radosgw and the instances. They start at once on the empty schema:
 * one migrates it under Stowage's advisory lock while the others wait, as in
 * a real rollout. Fails naming the peer (PostgreSQL, radosgw) that is missing.
 */
export async function startLoadCluster(o: ClusterOptions): Promise<LoadCluster> {
  await withPg((c) => c.query('select 1'));
  const schema = `load_${randomBytes(6).toString('hex')}`;
  const catalogUrl = `${LOAD_PG_URL}?schema=${schema}`;
  const rgw = await startRadosgw({ memstoreBytes: o.memstoreBytes });
  const env = { ...storageEnv(rgw, `load${randomBytes(4).toString('hex')}`), CATALOG_URL: catalogUrl };
  const started = await Promise.allSettled(Array.from({ length: o.instances }, (_, i) =>
    startStowage({ dataPath: join(o.dir, `instance-${i}`), env })));
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async (): Promise<void> => {
    for (const inst of instances) await inst.stop();
    await withPg((c) => c.query(`drop schema if exists "${schema}" cascade`)).catch(() => undefined);
    await rgw.stop();
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return { instances, catalogUrl, schema, rgw, stop };
}
