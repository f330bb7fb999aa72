import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.ts';
import { parseConverterUrl, parseFrameSpec, converterStoragePath } from '../../src/media/convert-url.ts';
import { previewGeometry } from '../../src/media/preview-geometry.ts';
import { derivedPathChain } from '../../src/media/preview-paths.ts';
import { normalizedOptions, parsePreviewUrl, type PreviewOptions } from '../../src/media/preview-url.ts';

const SRC = 'stowage-public/images/original/ab/cd/x.jpg';

/** Asserts a 400 naming `field`. */
function rejects400(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.kind, 'InvalidInput');
    assert.equal(err.details?.['field'], field, err.message);
    return true;
  });
}

describe('preview URLs', () => {
  it('parses what the SDK builds (resize_image_url, preview_url)', () => {
    const p = parsePreviewUrl(`q/ext:jpeg/resize:fill:512:256:0/q:70/plain/${SRC}`);
    assert.equal(p.source, SRC);
    assert.deepEqual(p.options, { format: 'jpeg', resize: 'fill', width: 512, height: 256, enlarge: false, quality: 70, page: 0 });
    const auto = parsePreviewUrl(`q/ext:png/resize:auto:0:0:0/q:70/plain/${SRC}`);
    assert.equal(auto.options.format, 'png');
    assert.equal(auto.options.resize, 'auto');
  });

  it('takes the literal None for an absent side', () => {
    const p = parsePreviewUrl(`q/ext:jpeg/resize:fit:None:300:0/q:70/plain/${SRC}`);
    assert.equal(p.options.width, 0);
    assert.equal(p.options.height, 300);
    assert.equal(parsePreviewUrl(`q/resize:fit:200:None:0/plain/${SRC}`).options.height, 0);
  });

  it('accepts every imgproxy option it supports, with short names', () => {
    const p = parsePreviewUrl(`insecure/rt:force/w:100/h:50/el:1/q:55/f:webp/pg:2/plain/${SRC}`);
    assert.deepEqual(p.options, { format: 'webp', resize: 'force', width: 100, height: 50, enlarge: true, quality: 55, page: 2 });
    const s = parsePreviewUrl(`_/s:10:20:t/format:avif/plain/${SRC}`);
    assert.deepEqual([s.options.width, s.options.height, s.options.enlarge, s.options.format], [10, 20, true, 'avif']);
    assert.equal(parsePreviewUrl(`ext:jpg/plain/${SRC}`).options.format, 'jpeg', 'no signature segment, jpg alias');
    assert.equal(parsePreviewUrl(`q/plain/${SRC}`).options.quality, 80, 'imgproxy default quality');
  });

  it('parses the legacy x200,jpeg,q70 form, with or without plain/', () => {
    const p = parsePreviewUrl(`x200,jpeg,q70/image-converter/${SRC}`);
    assert.deepEqual(p.options, { format: 'jpeg', resize: 'fit', width: 0, height: 200, enlarge: false, quality: 70, page: 0 });
    assert.equal(p.source, `image-converter/${SRC}`);
    const q = parsePreviewUrl(`640x480,png/plain/${SRC}`);
    assert.deepEqual([q.options.width, q.options.height, q.options.format, q.source], [640, 480, 'png', SRC]);
  });

  it('keeps the source path as written (percent-encoding untouched)', () => {
    assert.equal(parsePreviewUrl('q/ext:jpeg/plain/remote/s3/b/red%20car.jpg').source, 'remote/s3/b/red%20car.jpg');
  });

  it('refuses bad parameters with a 400 naming each', () => {
    rejects400(() => parsePreviewUrl(`q/blur:5/plain/${SRC}`), 'blur');
    rejects400(() => parsePreviewUrl(`q/resize:fill:0:0:0/plain/${SRC}`), 'width');
    rejects400(() => parsePreviewUrl(`q/resize:fill-down:None:None:0/plain/${SRC}`), 'width');
    rejects400(() => parsePreviewUrl(`q/resize:fit:100000:10:0/plain/${SRC}`), 'width');
    rejects400(() => parsePreviewUrl(`q/resize:fit:10:100000:0/plain/${SRC}`), 'height');
    rejects400(() => parsePreviewUrl(`q/resize:fit:-5:10:0/plain/${SRC}`), 'width');
    rejects400(() => parsePreviewUrl(`q/resize:crop:10:10:0/plain/${SRC}`), 'resize');
    rejects400(() => parsePreviewUrl(`q/q:0/plain/${SRC}`), 'quality');
    rejects400(() => parsePreviewUrl(`q/q:101/plain/${SRC}`), 'quality');
    rejects400(() => parsePreviewUrl(`q/ext:gif/plain/${SRC}`), 'format');
    rejects400(() => parsePreviewUrl(`q/resize:fit:10:10:2/plain/${SRC}`), 'enlarge');
    rejects400(() => parsePreviewUrl(`q/resize:fit:10:10:0:1/plain/${SRC}`), 'extend');
    rejects400(() => parsePreviewUrl(`q/page:x/plain/${SRC}`), 'page');
    rejects400(() => parsePreviewUrl(`q/ext:jpeg/${SRC}`), 'path');
    rejects400(() => parsePreviewUrl('q/ext:jpeg/plain/'), 'path');
    rejects400(() => parsePreviewUrl(`x200,bmp/${SRC}`), 'format');
    rejects400(() => parsePreviewUrl(`x200,q0/${SRC}`), 'quality');
  });

  it('normalises options for cache keys (PNG ignores quality)', () => {
    const a = parsePreviewUrl(`q/ext:png/q:70/plain/${SRC}`).options;
    const b = parsePreviewUrl(`q/ext:png/q:90/plain/${SRC}`).options;
    assert.equal(normalizedOptions(a, 'png'), normalizedOptions(b, 'png'));
    assert.notEqual(normalizedOptions(a, 'jpeg'), normalizedOptions(b, 'jpeg'));
  });
});

describe('preview geometry (imgproxy resizing types)', () => {
  const src = { width: 2000, height: 1000 };
  const g = (o: Partial<PreviewOptions>, s = src) =>
    previewGeometry(s, { resize: 'fit', width: 0, height: 0, enlarge: false, ...o });

  it('fit keeps the aspect ratio inside the box', () => {
    assert.deepEqual(g({ width: 400, height: 400 }), { width: 400, height: 200, crop: false });
    assert.deepEqual(g({ width: 0, height: 100 }), { width: 200, height: 100, crop: false });
    assert.deepEqual(g({}), { width: 2000, height: 1000, crop: false }, '0x0: compress only');
  });

  it('fill covers the box and crops; one side 0 derives it', () => {
    assert.deepEqual(g({ resize: 'fill', width: 400, height: 400 }), { width: 400, height: 400, crop: true });
    assert.deepEqual(g({ resize: 'fill', width: 300, height: 0 }), { width: 300, height: 150, crop: false });
  });

  it('does not enlarge unless asked', () => {
    const small = { width: 200, height: 100 };
    assert.deepEqual(g({ width: 400, height: 400 }, small), { width: 200, height: 100, crop: false });
    assert.deepEqual(g({ width: 400, height: 400, enlarge: true }, small), { width: 400, height: 200, crop: false });
    assert.deepEqual(g({ resize: 'fill', width: 400, height: 400 }, small), { width: 200, height: 100, crop: true });
    assert.deepEqual(g({ resize: 'fill', width: 400, height: 50 }, { width: 600, height: 100 }), { width: 400, height: 50, crop: true });
    assert.deepEqual(g({ resize: 'fill', width: 400, height: 400 }, { width: 600, height: 100 }), { width: 400, height: 100, crop: true });
  });

  it('fill-down shrinks the box, keeping its aspect, when the source is too small', () => {
    assert.deepEqual(g({ resize: 'fill-down', width: 400, height: 400 }, { width: 200, height: 100 }), { width: 100, height: 100, crop: true });
    assert.deepEqual(g({ resize: 'fill-down', width: 400, height: 400 }), { width: 400, height: 400, crop: true });
  });

  it('force ignores the aspect ratio', () => {
    assert.deepEqual(g({ resize: 'force', width: 300, height: 300 }), { width: 300, height: 300, crop: false });
    assert.deepEqual(g({ resize: 'force', width: 300, height: 0 }), { width: 300, height: 150, crop: false });
  });

  it('auto fills when orientations match, else fits', () => {
    assert.deepEqual(g({ resize: 'auto', width: 400, height: 300 }), { width: 400, height: 300, crop: true });
    assert.deepEqual(g({ resize: 'auto', width: 300, height: 400 }), { width: 300, height: 150, crop: false });
  });

  it('never exceeds 16383 px a side', () => {
    assert.deepEqual(g({ width: 16383, height: 16383, enlarge: true }, { width: 30000, height: 10 }), { width: 16383, height: 5, crop: false });
    assert.deepEqual(g({}, { width: 30000, height: 15000 }), { width: 16383, height: 8192, crop: false });
  });
});

describe('converter paths', () => {
  it('parses images, pages and video frames', () => {
    assert.deepEqual(parseConverterUrl(SRC), { kind: 'image', page: 0, source: SRC });
    assert.deepEqual(parseConverterUrl(`page:3/${SRC}`), { kind: 'image', page: 3, source: SRC });
    assert.deepEqual(parseConverterUrl('videoframe/33p/videos/original/a/b/c.mp4', { videoStreamIndex: '1' }), {
      kind: 'videoframe', frame: { kind: 'percent', percent: 33 }, streamIndex: 1, source: 'videos/original/a/b/c.mp4',
    });
    assert.deepEqual(parseFrameSpec('12'), { kind: 'frame', frame: 12 });
    assert.deepEqual(parseFrameSpec('12f'), { kind: 'frame', frame: 12 });
    assert.deepEqual(parseFrameSpec('2.5s'), { kind: 'time', seconds: 2.5 });
  });

  it('refuses bad frames, streams and paths with a 400 naming each', () => {
    rejects400(() => parseFrameSpec('1.5'), 'frame');
    rejects400(() => parseFrameSpec('101p'), 'frame');
    rejects400(() => parseFrameSpec('abc'), 'frame');
    rejects400(() => parseConverterUrl('videoframe/1/x.mp4', { videoStreamIndex: '-1' }), 'videoStreamIndex');
    rejects400(() => parseConverterUrl('videoframe//x.mp4'), 'frame');
    rejects400(() => parseConverterUrl('page:a/x.tif'), 'page');
    rejects400(() => parseConverterUrl('page:1/'), 'path');
  });

  it('reads a bare key (a video processingPath) from the public bucket', () => {
    const roots = { publicBucket: 'stowage-public', privateBucket: 'stowage-private' };
    assert.equal(converterStoragePath('videos/original/x.mp4', roots, 'remote'), 'stowage-public/videos/original/x.mp4');
    assert.equal(converterStoragePath('stowage-private/k.tif', roots, 'remote'), 'stowage-private/k.tif');
    assert.equal(converterStoragePath('remote/s3/b/k.tif', roots, 'remote'), 'remote/s3/b/k.tif');
  });

  it('chains preview → converter → storage paths (what a signed URL may open)', () => {
    const roots = { publicBucket: 'stowage-public', privateBucket: 'stowage-private', remoteRoot: 'remote' };
    assert.deepEqual(derivedPathChain('/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/image-converter/videoframe/33p/videos/original/x.mp4', roots), [
      '/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/image-converter/videoframe/33p/videos/original/x.mp4',
      '/image-converter/videoframe/33p/videos/original/x.mp4',
      '/stowage-public/videos/original/x.mp4',
    ]);
    assert.deepEqual(derivedPathChain(`/${SRC}`, roots), [`/${SRC}`]);
  });
});
