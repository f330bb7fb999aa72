import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { claimLocalStorage } from '../../src/catalog/local-storage-claim.ts';
import { assertPostgresReachable, PG_BASE_URL } from '../helpers/catalogs.ts';

describe('local storage claim (PostgreSQL advisory lock)', () => {
  it('is held by one instance per catalog and freed when it ends', async () => {
    assertPostgresReachable();
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const first = await claimLocalStorage(PG_BASE_URL, schema);
    assert.ok(first, 'the first instance gets the claim');
    assert.equal(await claimLocalStorage(PG_BASE_URL, schema), undefined, 'a second instance is refused');
    const otherCatalog = await claimLocalStorage(PG_BASE_URL, `${schema}x`);
    assert.ok(otherCatalog, 'another catalog schema has its own claim');
    await first.release();
    const again = await claimLocalStorage(PG_BASE_URL, schema);
    assert.ok(again, 'a released claim can be taken again');
    await again.release();
    await otherCatalog.release();
  });
});
