import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { uniqueSuffix } from '../../src/cache/unique-name.ts';

describe('uniqueSuffix', () => {
  it('never repeats within a process', () => {
    const seen = new Set(Array.from({ length: 10_000 }, uniqueSuffix));
    assert.equal(seen.size, 10_000);
  });

  it('differs between processes sharing a cache folder', () => {
    const module = new URL('../../src/cache/unique-name.ts', import.meta.url).href;
    const other = () => execFileSync(process.execPath, ['--input-type=module', '-e', `import { uniqueSuffix } from '${module}'; process.stdout.write(uniqueSuffix());`], { encoding: 'utf8' });
    const [a, b] = [other(), other()];
    assert.match(a, /^[0-9a-f]{12}1$/);
    assert.notEqual(a, b, 'first names of two processes');
    assert.notEqual(a, uniqueSuffix());
  });
});
