import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HotObjectCache, isImmutableKey } from '../../src/cache/hot-objects.ts';

const hex = (c: string) => c.repeat(64);
const entry = (key: string, size: number) => ({
  info: { bucket: 'b', key, size, etag: '"e"', lastModified: new Date(0) },
  bytes: Buffer.alloc(size, 1),
});

describe('hot object cache', () => {
  it('keeps only content-addressed keys', () => {
    assert.equal(isImmutableKey(`images/original/aa/bb/${hex('a')}.jpg`), true);
    assert.equal(isImmutableKey('models/latest.pt'), false);
    assert.equal(isImmutableKey(`${hex('a')}.jpg/../x`), false);
    const c = new HotObjectCache(1000);
    c.set('b', 'models/latest.pt', entry('models/latest.pt', 10));
    assert.equal(c.get('b', 'models/latest.pt'), undefined);
  });

  it('evicts the least recently used entries to stay within its budget', () => {
    const c = new HotObjectCache(300, 200);
    const [k1, k2, k3] = ['1', '2', '3'].map((d) => `x/${hex(d)}.png`) as [string, string, string];
    c.set('b', k1, entry(k1, 100));
    c.set('b', k2, entry(k2, 100));
    assert.ok(c.get('b', k1));
    c.set('b', k3, entry(k3, 150));
    assert.ok(c.get('b', k1), 'recently used survives');
    assert.equal(c.get('b', k2), undefined, 'least recently used is evicted');
    assert.ok(c.stats().bytes <= 300);
  });

  it('refuses objects over the entry limit and does nothing when disabled', () => {
    const c = new HotObjectCache(10_000, 100);
    const k = `x/${hex('f')}.png`;
    assert.equal(c.accepts(k, 101), false);
    c.set('b', k, entry(k, 101));
    assert.equal(c.get('b', k), undefined);
    const off = new HotObjectCache(0);
    assert.equal(off.accepts(k, 1), false);
  });
});
