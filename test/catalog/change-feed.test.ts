import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { localChangeFeed, pgChangeFeed, channelName, type ChangeFeed, type ChangeTopic } from '../../src/catalog/change-feed.ts';
import { assertPostgresReachable, PG_BASE_URL } from '../helpers/catalogs.ts';

/** Resolves with the next `topic` event of `feed` (the test runner's timeout bounds the wait). */
function next(feed: ChangeFeed, topic: ChangeTopic): Promise<void> {
  return new Promise((resolve) => {
    const off = feed.subscribe(topic, () => { off(); resolve(); });
  });
}

describe('change feed (SQLite: in process)', () => {
  it('delivers a published topic to its subscribers only', async () => {
    const feed = localChangeFeed();
    const seen: string[] = [];
    feed.subscribe('connections', () => seen.push('connections'));
    const off = feed.subscribe('api-keys', () => seen.push('api-keys'));
    await feed.publish('connections');
    off();
    await feed.publish('api-keys');
    assert.deepEqual(seen, ['connections']);
    await feed.close();
  });
});

describe('change feed (PostgreSQL LISTEN/NOTIFY)', () => {
  const feeds: ChangeFeed[] = [];
  const open = async (schema: string) => {
    const feed = await pgChangeFeed({ connectionString: PG_BASE_URL, schema, retryMs: 50 });
    feeds.push(feed);
    return feed;
  };
  after(async () => { for (const f of feeds) await f.close(); });

  it('reaches every instance of the same catalog, and no other catalog', async () => {
    assertPostgresReachable();
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const [a, b, other] = [await open(schema), await open(schema), await open(`${schema}x`)];
    let leaked = false;
    other.subscribe('connections', () => { leaked = true; });
    const atA = next(a, 'connections');
    const atB = next(b, 'connections');
    await a.publish('connections');
    await Promise.all([atA, atB]);
    // A notification for the other schema would have arrived with these (same server, same order).
    const keysAtB = next(b, 'api-keys');
    await b.publish('api-keys');
    await keysAtB;
    assert.equal(leaked, false);
  });

  it('reconnects after losing its listener and reports every topic as changed', async () => {
    assertPostgresReachable();
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const feed = await open(schema);
    const replayed = Promise.all([next(feed, 'connections'), next(feed, 'api-keys')]);
    const admin = new pg.Client({ connectionString: PG_BASE_URL });
    await admin.connect();
    try {
      // Kills the LISTEN session server-side, as a PostgreSQL restart would.
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1',
        [`LISTEN "${channelName(schema)}"`],
      );
      assert.equal(killed.rowCount, 1);
    } finally {
      await admin.end();
    }
    await replayed;
    const again = next(feed, 'connections');
    await feed.publish('connections');
    await again;
  });
});
