import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHead, sniffMime, SNIFF_HEAD_BYTES } from '../../src/media/sniff.ts';
import type { VideoContainer } from '../helpers/media-fixtures.ts';
import {
  makeAvif, makeBmp, makeGif, makeJpeg, makePng, makeTiff, makeVideo, makeWebp,
} from '../helpers/media-fixtures.ts';

/** An ISO-BMFF ftyp box with these brands (major first). */
function ftyp(major: string, ...compatible: string[]): Buffer {
  const size = 16 + 4 * compatible.length;
  const box = Buffer.alloc(size + 8);
  box.writeUInt32BE(size, 0);
  box.write(`ftyp${major}`, 4, 'latin1');
  compatible.forEach((b, i) => box.write(b, 16 + 4 * i, 'latin1'));
  box.write('\0\0\0\x08free', size, 'latin1');
  return box;
}

describe('sniffMime: images from real encoders', () => {
  const cases: [string, () => Promise<Buffer> | Buffer, string, string][] = [
    ['jpeg', () => makeJpeg(8, 6), 'image/jpeg', 'jpg'],
    ['png', () => makePng(8, 6), 'image/png', 'png'],
    ['gif', () => makeGif(8, 6), 'image/gif', 'gif'],
    ['webp', () => makeWebp(8, 6), 'image/webp', 'webp'],
    ['tiff', () => makeTiff(8, 6), 'image/tiff', 'tiff'],
    ['avif', () => makeAvif(8, 6), 'image/avif', 'avif'],
    ['bmp', () => makeBmp(8, 6), 'image/bmp', 'bmp'],
  ];
  for (const [name, make, mime, ext] of cases) {
    it(name, async () => {
      assert.deepEqual(sniffMime((await make()).subarray(0, SNIFF_HEAD_BYTES)), { mime, ext, kind: 'image' });
    });
  }
});

describe('sniffMime: crafted image headers', () => {
  it('big-endian and BigTIFF', () => {
    for (const hex of ['4d4d002a00000008', '49492b0008000000', '4d4d002b00080000']) {
      assert.equal(sniffMime(Buffer.from(hex, 'hex'))?.mime, 'image/tiff', hex);
    }
  });

  it('HEIF brands', () => {
    assert.deepEqual(sniffMime(ftyp('heic', 'mif1', 'heic')), { mime: 'image/heic', ext: 'heic', kind: 'image' });
    assert.equal(sniffMime(ftyp('mif1', 'mif1', 'heic'))?.mime, 'image/heic');
    assert.equal(sniffMime(ftyp('mif1', 'mif1', 'miaf', 'avif'))?.mime, 'image/avif');
    assert.equal(sniffMime(ftyp('mif1', 'mif1'))?.mime, 'image/heif');
    assert.equal(sniffMime(ftyp('avis', 'avis', 'msf1'))?.ext, 'avif');
  });
});

describe('sniffMime: videos from ffmpeg', () => {
  let dir = '';
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'sniff-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const cases: [VideoContainer, string, string][] = [
    ['mp4', 'video/mp4', 'mp4'],
    ['mov', 'video/quicktime', 'mov'],
    ['3gp', 'video/3gpp', '3gp'],
    ['webm', 'video/webm', 'webm'],
    ['mkv', 'video/x-matroska', 'mkv'],
    ['avi', 'video/x-msvideo', 'avi'],
    ['flv', 'video/x-flv', 'flv'],
    ['wmv', 'video/x-ms-wmv', 'wmv'],
  ];
  for (const [container, mime, ext] of cases) {
    it(container, async () => {
      const file = await makeVideo(dir, { container, width: 32, height: 24, seconds: 0.5, fps: 10 });
      assert.deepEqual(sniffMime(await readHead(file)), { mime, ext, kind: 'video' });
      // 64 bytes is enough for every container ffmpeg writes.
      assert.deepEqual(sniffMime(await readHead(file, 64)), { mime, ext, kind: 'video' });
    });
  }
});

describe('sniffMime: crafted video headers', () => {
  it('classifies ISO-BMFF brands', () => {
    assert.equal(sniffMime(ftyp('isom', 'isom', 'avc1'))?.mime, 'video/mp4');
    assert.equal(sniffMime(ftyp('mp42', 'mp41'))?.mime, 'video/mp4');
    assert.equal(sniffMime(ftyp('qt  ', 'qt  '))?.mime, 'video/quicktime');
    assert.equal(sniffMime(ftyp('3g2a', '3g2a'))?.mime, 'video/3gpp2');
    assert.equal(sniffMime(ftyp('XAVC', 'XAVC'))?.mime, 'video/mp4', 'unknown camera brand');
  });

  it('rejects audio-only ISO-BMFF', () => {
    assert.equal(sniffMime(ftyp('M4A ', 'M4A ', 'mp42', 'isom')), undefined);
  });

  it('recognises pre-ftyp QuickTime', () => {
    assert.equal(sniffMime(Buffer.from('\0\0\0\x08wide\0\0\0\x10mdat', 'latin1'))?.mime, 'video/quicktime');
  });

  it('defaults EBML without a readable DocType to Matroska', () => {
    assert.equal(sniffMime(Buffer.from('1a45dfa3', 'hex'))?.mime, 'video/x-matroska');
    assert.equal(sniffMime(Buffer.from('1a45dfa39f4286810142f7810142f2810442f38108', 'hex'))?.mime, 'video/x-matroska');
  });

  it('reads DocType webm from a minimal EBML header', () => {
    const head = Buffer.from('1a45dfa3874282847765626d', 'hex');
    assert.equal(sniffMime(head)?.mime, 'video/webm');
  });
});

describe('sniffMime: garbage and truncation', () => {
  it('returns undefined for empty and short input', () => {
    assert.equal(sniffMime(Buffer.alloc(0)), undefined);
    for (const magic of ['ffd8', '8950', '4749463839', '52494646', '424d', '00000018667479']) {
      assert.equal(sniffMime(Buffer.from(magic, 'hex')), undefined, magic);
    }
  });

  it('returns undefined for text, svg, wav and zeros', () => {
    const inputs = [
      'hello world, this is not a picture',
      'BMW parts list: 0000000000000000000000',
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
      'RIFF\x24\0\0\0WAVEfmt ',
      '\0'.repeat(64),
    ];
    for (const text of inputs) assert.equal(sniffMime(Buffer.from(text, 'latin1')), undefined, text);
  });

  it('returns undefined for pseudo-random bytes', () => {
    let x = 12345;
    const bytes = Buffer.alloc(512);
    for (let i = 0; i < bytes.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; bytes[i] = x >> 16; }
    assert.equal(sniffMime(bytes), undefined);
  });
});
