import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStorageError } from '../../src/storage/errors.ts';
import { isValidBucket, isValidKey, keyProblem, MAX_KEY_BYTES, validateBucket, validateKey } from '../../src/storage/keys.ts';

function assertInvalidKey(key: string): void {
  assert.throws(() => validateKey(key), (err: unknown) => {
    assert.ok(isStorageError(err, 'InvalidKey'), String(err));
    assert.equal(err.key, key);
    return true;
  });
  assert.equal(isValidKey(key), false);
}

describe('validateKey', () => {
  it('accepts ordinary, nested, unicode and dotted keys', () => {
    const keys = [
      'a', 'images/2024/cat.jpg', 'dir with space/file name.png', 'naïve/猫/🐱.webp', '.hidden', 'a/.b/c..d',
      '...', 'a-b_c=d+e&f?g#h%2F', 'x'.repeat(MAX_KEY_BYTES),
    ];
    for (const key of keys) {
      assert.doesNotThrow(() => validateKey(key), key);
      assert.equal(isValidKey(key), true, key);
    }
  });

  it('refuses empty keys and path traversal', () => {
    for (const key of ['', '.', '..', '../x', 'a/../b', 'a/..', './a', 'a/./b', 'a/.']) assertInvalidKey(key);
  });

  it('refuses leading, trailing and doubled slashes', () => {
    for (const key of ['/abs', '/', 'a/', 'a//b', 'a/b//']) assertInvalidKey(key);
  });

  it('refuses backslashes, NUL and control characters', () => {
    for (const key of ['a\\b', '\\', 'a\u0000b', 'tab\there', 'new\nline', 'del\u007f', 'c1\u0085', 'esc\u001b']) assertInvalidKey(key);
  });

  it('counts the length in UTF-8 bytes', () => {
    assertInvalidKey('x'.repeat(MAX_KEY_BYTES + 1));
    assert.equal(isValidKey('€'.repeat(341)), true); // 1023 bytes
    assertInvalidKey('€'.repeat(342)); // 1026 bytes, only 342 UTF-16 units
  });

  it('refuses lone surrogates, which cannot round-trip through UTF-8', () => {
    assertInvalidKey('bad\ud800');
    assertInvalidKey('\udc00x');
    assert.equal(isValidKey('ok\ud83d\ude00'), true);
  });

  it('explains the problem in the message', () => {
    assert.match(keyProblem('a//b') ?? '', /empty segment/);
    assert.match(keyProblem('../x') ?? '', /"\.\." segment/);
    assert.equal(keyProblem('fine/key'), undefined);
  });
});

describe('validateBucket', () => {
  it('accepts S3-style names', () => {
    for (const name of ['abc', 'stowage-public', 'my.bucket_v2', '123', 'a'.repeat(63), 'x-1.y_2']) {
      assert.doesNotThrow(() => validateBucket(name), name);
      assert.equal(isValidBucket(name), true, name);
    }
  });

  it('refuses bad lengths, characters and edges', () => {
    const names = ['', 'ab', 'a'.repeat(64), 'Abc', 'abC', 'a b', 'a/b', 'a\\b', '-abc', 'abc-', '.tmp', 'abc.', '_abc', 'a..b', '..', 'ab\u0000c', 'ñandú'];
    for (const name of names) {
      assert.equal(isValidBucket(name), false, name);
      assert.throws(() => validateBucket(name), (err: unknown) => isStorageError(err, 'InvalidKey') && err.bucket === name, name);
    }
  });
});
