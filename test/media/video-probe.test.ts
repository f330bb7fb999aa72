import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../src/errors.ts';
import type { AppErrorKind } from '../../src/errors.ts';
import { probeVideo } from '../../src/media/video-probe.ts';
import type { VideoContainer } from '../helpers/media-fixtures.ts';
import { makePng, makeVideo, videoEncoderFor } from '../helpers/media-fixtures.ts';

/** Codec ffprobe reports for each encoder the fixtures may pick. */
const CODEC_OF: Record<string, string> = {
  libx264: 'h264', mpeg4: 'mpeg4', libvpx: 'vp8', 'libvpx-vp9': 'vp9', 'libaom-av1': 'av1', flv: 'flv1', wmv2: 'wmv2',
};

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'video-probe-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function rejectsKind(p: Promise<unknown>, kind: AppErrorKind, re: RegExp): Promise<AppError> {
  let caught: AppError | undefined;
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.kind, kind);
    assert.match(err.message, re);
    caught = err;
    return true;
  });
  assert.ok(caught);
  return caught;
}

/** An executable shell script standing in for ffprobe. */
async function fakeFfprobe(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('probeVideo: real files', () => {
  it('mp4: exact size, frames and codec', async () => {
    const path = await makeVideo(dir, { container: 'mp4', width: 64, height: 48, seconds: 2, fps: 10 });
    const meta = await probeVideo(path);
    assert.equal(meta.mime, 'video/mp4');
    assert.equal(meta.size, String((await stat(path)).size));
    assert.equal(meta.width, 64);
    assert.equal(meta.height, 48);
    assert.ok(Math.abs(meta.duration - 2) < 0.1, `duration ${meta.duration}`);
    assert.equal(meta.framesCount, 20);
    assert.equal(meta.codecName, CODEC_OF[await videoEncoderFor('mp4')]);
    assert.equal(meta.codecType, 'video');
    assert.match(meta.formatName, /\bmp4\b/);
    assert.equal(meta.startTime, 0);
    assert.equal(meta.rotation, undefined);
    assert.deepEqual(meta.streams, [{
      index: 0, codecType: 'video', codecName: meta.codecName, width: 64, height: 48,
      duration: meta.streams[0]?.duration, framesCount: 20, startTime: 0,
    }]);
    assert.equal(meta['framesToTimecodes'], undefined);
  });

  it('webm: frames from duration × frame rate', async () => {
    const path = await makeVideo(dir, { container: 'webm', width: 80, height: 60, seconds: 3, fps: 12 });
    const meta = await probeVideo(path);
    assert.equal(meta.mime, 'video/webm');
    assert.equal(meta.width, 80);
    assert.equal(meta.height, 60);
    assert.ok(Math.abs(meta.duration - 3) < 0.1, `duration ${meta.duration}`);
    assert.equal(meta.framesCount, 36);
    assert.equal(meta.codecName, CODEC_OF[await videoEncoderFor('webm')]);
    assert.equal(meta.formatName, 'matroska,webm');
    assert.equal(meta.streams[0]?.framesCount, 36);
    assert.ok(Math.abs((meta.streams[0]?.duration ?? 0) - 3) < 0.1, 'stream duration from the DURATION tag');
  });

  const others: [VideoContainer, string][] = [
    ['mov', 'video/quicktime'], ['mkv', 'video/x-matroska'], ['avi', 'video/x-msvideo'],
    ['flv', 'video/x-flv'], ['3gp', 'video/3gpp'], ['wmv', 'video/x-ms-wmv'],
  ];
  for (const [container, mime] of others) {
    it(`${container}: mime, size and frames`, async () => {
      const path = await makeVideo(dir, { container, width: 32, height: 24, seconds: 1, fps: 10 });
      const meta = await probeVideo(path);
      assert.deepEqual([meta.mime, meta.width, meta.height, meta.framesCount], [mime, 32, 24, 10]);
      assert.equal(meta.codecName, CODEC_OF[await videoEncoderFor(container)]);
    });
  }

  it('lists audio streams but describes the video one', async () => {
    const path = await makeVideo(dir, { container: 'mp4', width: 32, height: 24, seconds: 1, fps: 10, audio: true });
    const meta = await probeVideo(path);
    assert.equal(meta.codecType, 'video');
    assert.equal(meta.framesCount, 10);
    assert.deepEqual(meta.streams.map((s) => [s.codecType, s.codecName]), [['video', meta.codecName], ['audio', 'aac']]);
    assert.equal(meta.streams[1]?.width, undefined);
    assert.equal(meta.streams[1]?.framesCount, undefined);
  });

  it('swaps width and height of a 90° rotated video and keeps the coded size', async () => {
    const path = await makeVideo(dir, { container: 'mp4', width: 64, height: 48, seconds: 1, fps: 10, rotate: 90 });
    const meta = await probeVideo(path);
    assert.ok(meta.rotation !== undefined && Math.abs(meta.rotation) === 90, `rotation ${meta.rotation}`);
    assert.deepEqual([meta.width, meta.height, meta.originalWidth, meta.originalHeight], [48, 64, 64, 48]);
    assert.equal(meta.streams[0]?.rotation, meta.rotation);
  });
});

describe('probeVideo: rejects', () => {
  it('a text file', async () => {
    const path = join(dir, 'notes.txt');
    await writeFile(path, 'not a video\n');
    const err = await rejectsKind(probeVideo(path), 'Unprocessable', /^file is not a supported video: unrecognised content/);
    assert.deepEqual(err.details, { field: 'file' });
  });

  it('an image', async () => {
    const path = join(dir, 'pic.png');
    await writeFile(path, await makePng(8, 8));
    await rejectsKind(probeVideo(path, { field: 'video' }), 'Unprocessable', /image\/png is not a video/);
  });

  it('a truncated mp4, without leaking the server path', async () => {
    const full = await makeVideo(dir, { container: 'mp4', width: 32, height: 24, seconds: 1, fps: 10 });
    const path = join(dir, 'cut.mp4');
    await writeFile(path, (await readFile(full)).subarray(0, 200));
    const err = await rejectsKind(probeVideo(path), 'Unprocessable', /^file is not a supported video: /);
    assert.ok(!err.message.includes(dir), err.message);
  });
});

describe('probeVideo: ffprobe limits', () => {
  let mp4 = '';
  before(async () => { mp4 = await makeVideo(dir, { container: 'mp4', width: 32, height: 24, seconds: 1, fps: 10 }); });

  it('kills a hung ffprobe after the timeout', async () => {
    const ffprobePath = await fakeFfprobe('hang.sh', 'exec sleep 30');
    const err = await rejectsKind(probeVideo(mp4, { ffprobePath, timeoutMs: 300 }), 'Unprocessable', /timed out after 300 ms/);
    assert.deepEqual(err.details, { field: 'file' });
  });

  it('caps ffprobe output', async () => {
    await rejectsKind(probeVideo(mp4, { maxOutputBytes: 100 }), 'Unprocessable', /output too large/);
  });

  it('rejects output that is not JSON', async () => {
    const ffprobePath = await fakeFfprobe('junk.sh', 'echo "this is not json"');
    await rejectsKind(probeVideo(mp4, { ffprobePath }), 'Unprocessable', /not JSON/);
  });

  it('reports a missing binary as Internal', async () => {
    await rejectsKind(probeVideo(mp4, { ffprobePath: join(dir, 'no-such-ffprobe') }), 'Internal', /ENOENT/);
  });

  it('stops when aborted', async () => {
    const ffprobePath = await fakeFfprobe('slow.sh', 'exec sleep 30');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(probeVideo(mp4, { ffprobePath, signal: ac.signal }), { name: 'AbortError' });
  });

  it('counts packets when neither nb_frames nor a frame rate is known', async () => {
    const stream = '{"index":0,"codec_type":"video","codec_name":"h264","width":32,"height":24,"avg_frame_rate":"0/0","r_frame_rate":"0/0"}';
    const ffprobePath = await fakeFfprobe('no-rate.sh', [
      'case "$*" in',
      `  *-count_packets*) echo '{"streams":[{"nb_read_packets":"42"}]}' ;;`,
      `  *) echo '{"streams":[${stream}],"format":{"format_name":"mov,mp4","duration":"4.2"}}' ;;`,
      'esac',
    ].join('\n'));
    const meta = await probeVideo(mp4, { ffprobePath });
    assert.equal(meta.framesCount, 42);
    assert.equal(meta.duration, 4.2);
  });

  it('rejects a file without a video stream', async () => {
    const ffprobePath = await fakeFfprobe('audio-only.sh',
      `echo '{"streams":[{"index":0,"codec_type":"audio","codec_name":"aac"}],"format":{"format_name":"mov"}}'`);
    await rejectsKind(probeVideo(mp4, { ffprobePath }), 'Unprocessable', /no video stream/);
  });
});
