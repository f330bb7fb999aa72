/**
 * Local-disk storage belongs to one Stowage instance: two instances on one
 * PostgreSQL catalog, each with its own DATA_PATH, would split the data (an
 * upload through one would be missing on the other). The first instance holds
 * a session advisory lock for its whole life; another one is refused at start.
 * The lock goes with the session, so a killed instance frees it at once.
 */
import pg from 'pg';
import { StorageError } from '../storage/errors.ts';
import { pgTarget } from './change-feed.ts';

/** A held claim; `release` ends it (also ended by the process exiting). */
export interface LocalStorageClaim {
  release(): Promise<void>;
}

/** Advisory-lock key space of Stowage (an arbitrary constant), and the claim's key within it. */
const LOCK_CLASS = 0x5354;
const LOCAL_STORAGE_LOCK = 1;

/**
 * Takes the local-storage claim of the catalog at `connectionString` (its
 * `schema` if any); undefined when another live instance holds it.
 */
export async function claimLocalStorage(connectionString: string, schema: string | undefined): Promise<LocalStorageClaim | undefined> {
  const client = new pg.Client({ connectionString });
  // A lost session loses the claim; nothing to do but not crash.
  client.on('error', () => undefined);
  await client.connect();
  try {
    // The schema name tells catalogs in one database apart; hashtext gives the second lock key.
    const res = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1::int, hashtext($2) # $3::int) AS ok',
      [LOCK_CLASS, schema ?? 'public', LOCAL_STORAGE_LOCK],
    );
    if (res.rows[0]?.ok === true) return { release: async () => { await client.end().catch(() => undefined); } };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  await client.end().catch(() => undefined);
  return undefined;
}

/**
 * The claim a starting instance needs: on a PostgreSQL catalog with local
 * storage (and DATA_PATH not declared shared), the local-storage claim, or a
 * clear refusal; otherwise nothing to hold.
 */
export async function claimStorageIfLocal(
  o: { catalogUrl: string; provider: string; dataPathShared: boolean },
): Promise<LocalStorageClaim | undefined> {
  const target = pgTarget(o.catalogUrl);
  if (target === undefined || o.provider !== 'http' || o.dataPathShared) return undefined;
  const claim = await claimLocalStorage(target.connectionString, target.schema);
  if (claim !== undefined) return claim;
  throw new StorageError('ConfigInvalid', 'another Stowage instance already uses this PostgreSQL catalog with local storage ' +
    '(STORAGE_PROVIDER=http): a second one would split the data. Use a cloud STORAGE_PROVIDER for several instances, ' +
    'or set DATA_PATH_SHARED=true if DATA_PATH is one folder shared by all of them', { provider: 'http' });
}
