// The node:sqlite Kysely driver. SQLite-only by nature (PostgreSQL uses
// Kysely's own pg dialect); the catalog tests run on both backends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { Kysely, sql } from 'kysely';
import { NodeSqliteDialect } from '../../src/catalog/node-sqlite-dialect.ts';
import { openSqlite } from '../../src/catalog/sqlite-open.ts';

interface Db {
  t: { id: number; v: string };
}

function memoryDb(): Kysely<Db> {
  return new Kysely<Db>({ dialect: new NodeSqliteDialect({ database: new DatabaseSync(':memory:') }) });
}

const dir = mkdtempSync(join(tmpdir(), 'stowage-sqlite-dialect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('queries, returning, affected rows and streaming', async () => {
  const db = memoryDb();
  await sql`create table t (id integer primary key, v text not null)`.execute(db);
  const inserted = await db.insertInto('t').values([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]).returningAll().execute();
  assert.deepEqual(inserted.map((r) => ({ ...r })), [{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
  const updated = await db.updateTable('t').set({ v: 'c' }).where('id', '>', 0).executeTakeFirst();
  assert.equal(updated.numUpdatedRows, 2n);
  const streamed: string[] = [];
  for await (const row of db.selectFrom('t').select('v').orderBy('id').stream()) streamed.push(row.v);
  assert.deepEqual(streamed, ['c', 'c']);
  await db.destroy();
});

test('transactions commit, roll back, and nest with savepoints', async () => {
  const db = memoryDb();
  await sql`create table t (id integer primary key, v text not null)`.execute(db);
  await db.transaction().execute((trx) => trx.insertInto('t').values({ id: 1, v: 'kept' }).execute());
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 2, v: 'lost' }).execute();
      throw new Error('abort');
    }),
    /abort/,
  );
  const trx = await db.startTransaction().execute();
  await trx.insertInto('t').values({ id: 3, v: 'outer' }).execute();
  const sp = await trx.savepoint('inner').execute();
  await sp.insertInto('t').values({ id: 4, v: 'inner' }).execute();
  await sp.rollbackToSavepoint('inner').execute();
  await trx.commit().execute();
  const rows = await db.selectFrom('t').select('v').orderBy('id').execute();
  assert.deepEqual(rows.map((r) => r.v), ['kept', 'outer']);
  await db.destroy();
});

test('concurrent transactions are serialised, not interleaved', async () => {
  const db = memoryDb();
  await sql`create table t (id integer primary key, v text not null)`.execute(db);
  await db.insertInto('t').values({ id: 1, v: '0' }).execute();
  // Read-modify-write in each transaction: interleaving would lose increments.
  await Promise.all(
    Array.from({ length: 20 }, () =>
      db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('t').select('v').where('id', '=', 1).executeTakeFirstOrThrow();
        await new Promise((resolve) => setImmediate(resolve));
        await trx.updateTable('t').set({ v: String(Number(row.v) + 1) }).where('id', '=', 1).execute();
      }),
    ),
  );
  const row = await db.selectFrom('t').select('v').executeTakeFirstOrThrow();
  assert.equal(row.v, '20');
  await db.destroy();
});

test('catalogs on one file in one process share its connection and lock', async () => {
  const path = join(dir, 'shared.db');
  const a = openSqlite(path) as unknown as Kysely<Db>;
  const b = openSqlite(path) as unknown as Kysely<Db>;
  await sql`create table t (id integer primary key, v text not null)`.execute(a);
  // Two open write transactions on two connections would deadlock the thread (sync busy wait).
  await Promise.all([
    a.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 1, v: 'a' }).execute();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }),
    b.transaction().execute((trx) => trx.insertInto('t').values({ id: 2, v: 'b' }).execute()),
  ]);
  await a.destroy();
  assert.equal((await b.selectFrom('t').selectAll().execute()).length, 2);
  const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(b);
  assert.equal(mode.rows[0]?.journal_mode, 'wal');
  const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(b);
  assert.equal(fk.rows[0]?.foreign_keys, 1);
  await b.destroy();
});
