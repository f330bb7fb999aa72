import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { etagMatches } from '../../src/http/send-object.ts';

describe('etagMatches (If-None-Match)', () => {
  it('matches the tag alone, in a list, weak, or *', () => {
    assert.equal(etagMatches('"a"', '"a"'), true);
    assert.equal(etagMatches('"x", "a"', '"a"'), true);
    assert.equal(etagMatches('W/"a"', '"a"'), true);
    assert.equal(etagMatches('*', '"a"'), true);
  });

  it('does not match another tag, a missing header, or a tag without quotes', () => {
    assert.equal(etagMatches('"b"', '"a"'), false);
    assert.equal(etagMatches(undefined, '"a"'), false);
    assert.equal(etagMatches('a', '"a"'), false);
  });
});
