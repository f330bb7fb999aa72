/**
 * Video frames for thumbnails: ffmpeg reads the stored video through the
 * loopback range server (so an MP4 with its index at the end works, by
 * seeking), and picks the frame asked for by index, time or percentage.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { AppError } from '../../src/errors.ts';
import { extractVideoFrame, frameTime } from '../../src/media/video-frame.ts';
import { withLoopbackUrl } from '../../src/media/video-frame-source.ts';
import type { FrameSpec } from '../../src/media/convert-url.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { countingStore, type CountingStore } from '../helpers/counting-store.ts';
import { ffmpegPath, makeVideo } from '../helpers/media-fixtures.ts';

const run = promisify(execFile);
const FPS = 10;

/** Frame `n` decoded by ffmpeg's select filter from the file: the reference. */
async function referenceFrame(file: string, n: number): Promise<Buffer> {
  const { stdout } = await run(ffmpegPath, ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 26 });
  return stdout;
}

async function meanDiff(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
  assert.equal(ra.length, rb.length);
  let sum = 0;
  for (let i = 0; i < ra.length; i++) sum += Math.abs((ra[i] ?? 0) - (rb[i] ?? 0));
  return sum / ra.length;
}

describe('video frames', () => {
  let dir: string;
  let file: string;
  let store: CountingStore;
  const at = () => ({ store, bucket: 'videos', key: 'clip.mp4' });
  const frame = async (spec: FrameSpec, stream = 0) => {
    const { size } = await store.head('videos', 'clip.mp4');
    return withLoopbackUrl(at(), size, (url) => extractVideoFrame(url, spec, stream));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-frames-'));
    file = await makeVideo(dir, { container: 'mp4', width: 160, height: 120, seconds: 4, fps: FPS });
    const bytes = await readFile(file);
    assert.ok(bytes.indexOf('moov') > bytes.indexOf('mdat'), 'the fixture keeps its index after the media data');
    const local = createLocalStore({ root: join(dir, 'store') });
    await local.ensureBucket('videos');
    await local.put('videos', 'clip.mp4', Readable.from([bytes]));
    store = countingStore(local);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('extracts exactly frame N (same pixels as ffmpeg\'s select filter), seeking by ranges', async () => {
    store.reset();
    const png = await frame({ kind: 'frame', frame: 17 });
    assert.ok(store.stats.ranged > 0, 'ffmpeg read the object by ranges');
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 160, 120]);
    const exact = await meanDiff(png, await referenceFrame(file, 17));
    const before = await meanDiff(png, await referenceFrame(file, 16));
    assert.ok(exact < 0.5, `frame 17 differs from the reference by ${exact}`);
    assert.ok(before > exact + 1, 'and it is not frame 16');
    assert.ok(await meanDiff(await frame({ kind: 'frame', frame: 0 }), await referenceFrame(file, 0)) < 0.5, 'frame 0');
  });

  it('takes a time or a percentage of the duration', async () => {
    const atTime = await frame({ kind: 'time', seconds: 2 });
    assert.ok(await meanDiff(atTime, await referenceFrame(file, 20)) < 0.5, '2 s = frame 20 at 10 fps');
    const third = await frame({ kind: 'percent', percent: 33 });
    assert.ok(await meanDiff(third, await referenceFrame(file, 13)) < 0.5, '33% of 4 s = 1.32 s = frame 13');
    const last = await frame({ kind: 'percent', percent: 100 });
    assert.ok(await meanDiff(last, await referenceFrame(file, 39)) < 0.5, '100% = the last frame');
  });

  it('refuses frames past the end and missing streams with a 400 naming them', async () => {
    for (const spec of [{ kind: 'frame', frame: 40 }, { kind: 'time', seconds: 4 }] as const) {
      await assert.rejects(frame(spec), (err: unknown) => err instanceof AppError && err.details?.['field'] === 'frame' && /past the end/.test(err.message));
    }
    await assert.rejects(frame({ kind: 'frame', frame: 0 }, 1), (err: unknown) => err instanceof AppError && err.details?.['field'] === 'videoStreamIndex');
  });

  it('computes seek times half a frame early, so rounding never skips a frame', () => {
    const t = { duration: 4, fps: 10, frames: 40 };
    assert.equal(frameTime({ kind: 'frame', frame: 0 }, t), 0);
    assert.equal(frameTime({ kind: 'frame', frame: 17 }, t), 1.65);
    assert.equal(frameTime({ kind: 'percent', percent: 100 }, t), 3.85);
    assert.equal(frameTime({ kind: 'time', seconds: 1.32 }, t), 1.25, 'the frame shown at 1.32 s is frame 13');
    assert.throws(() => frameTime({ kind: 'percent', percent: 50 }, { duration: undefined, fps: 10, frames: undefined }), /no known duration/);
  });
});
