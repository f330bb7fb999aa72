/**
 * One frame of a video as a PNG, by the ffmpeg binary of
 * `@ffmpeg-installer/ffmpeg`, for video thumbnails
 * (`/image-converter/videoframe/<frame>/<path>`). The input is a URL (see
 * ./video-frame-source.ts), so ffprobe and ffmpeg seek instead of reading the
 * whole video. Both run with a timeout and capped output.
 */
import { execFile } from 'node:child_process';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { AppError, invalidInput } from '../errors.ts';
import type { FrameSpec } from './convert-url.ts';
import { runFfprobe } from './run-ffprobe.ts';

/** Wall-clock limit of one ffprobe or ffmpeg run. */
export const FRAME_TIMEOUT_MS = 30_000;
/** Largest PNG accepted from ffmpeg (an 8K RGB frame is ~100 MB at worst). */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** What the frame arithmetic needs from a video stream. */
export interface VideoTiming {
  /** Seconds, when known. */
  duration: number | undefined;
  /** Average frames per second, when known. */
  fps: number | undefined;
  /** Frames in the stream, when the container records it. */
  frames: number | undefined;
}

/** Path of the bundled ffmpeg binary. */
export function bundledFfmpegPath(): string {
  return ffmpegInstaller.path;
}

/**
 * The PNG of the frame `spec` names in video stream `streamIndex` (among
 * video streams) of the video at `url`.
 * @throws AppError `InvalidInput` (field `frame` or `videoStreamIndex`) for a
 *   frame or stream the video lacks; `Unprocessable` when it cannot be decoded.
 */
export async function extractVideoFrame(url: string, spec: FrameSpec, streamIndex: number): Promise<Buffer> {
  const timing = await probeTiming(url, streamIndex);
  const seconds = frameTime(spec, timing);
  const png = await runFfmpeg([
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-ss', seconds.toFixed(6), '-i', url,
    '-map', `0:v:${streamIndex}`, '-frames:v', '1', '-an', '-sn',
    '-f', 'image2pipe', '-c:v', 'png', 'pipe:1',
  ]);
  if (png.length === 0) throw pastEnd(spec, timing);
  return png;
}

async function probeTiming(url: string, streamIndex: number): Promise<VideoTiming> {
  const out = await runFfprobe([
    '-v', 'error', '-select_streams', 'v', '-show_entries',
    'stream=avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration', '-of', 'json', url,
  ], { timeoutMs: FRAME_TIMEOUT_MS, field: 'path', redact: url });
  const j = JSON.parse(out) as { streams?: Array<Record<string, string | undefined>>; format?: { duration?: string } };
  const streams = j.streams ?? [];
  const s = streams[streamIndex];
  if (s === undefined) {
    const has = streams.length === 0 ? 'has no video stream' : `has ${streams.length} video stream(s), from 0`;
    throw invalidInput('videoStreamIndex', `videoStreamIndex ${streamIndex}: the video ${has}`);
  }
  return {
    duration: positive(s['duration']) ?? positive(j.format?.duration),
    fps: rate(s['avg_frame_rate']) ?? rate(s['r_frame_rate']),
    frames: positive(s['nb_frames']),
  };
}

/**
 * Where to seek for `spec`. Times and percentages mean the frame shown at
 * that moment, frame N sits at N / fps (constant rate assumed). Half a frame
 * earlier than frame N is asked for, since ffmpeg keeps the first frame at
 * or after the seek point and float rounding must not skip frame N.
 */
export function frameTime(spec: FrameSpec, t: VideoTiming): number {
  if (spec.kind === 'frame') {
    if (spec.frame === 0) return 0;
    if (t.fps === undefined) throw new AppError('Unprocessable', 'the video has no known frame rate: ask for a time (2.5s) or a percentage (33p)', { field: 'frame' });
    if (t.frames !== undefined && spec.frame >= t.frames) throw pastEnd(spec, t);
    return (spec.frame - 0.5) / t.fps;
  }
  const seconds = spec.kind === 'time' ? spec.seconds : percentTime(spec.percent, t);
  if (spec.kind === 'time' && t.duration !== undefined && seconds >= t.duration) throw pastEnd(spec, t);
  if (t.fps === undefined) return seconds;
  const frame = Math.floor(seconds * t.fps + 1e-6);
  return frame === 0 ? 0 : (frame - 0.5) / t.fps;
}

function percentTime(percent: number, t: VideoTiming): number {
  if (t.duration === undefined) throw new AppError('Unprocessable', 'the video has no known duration: ask for a frame (12) or a time (2.5s)', { field: 'frame' });
  const lastFrame = t.fps === undefined ? 0.001 : 1 / t.fps;
  return Math.max(0, Math.min((t.duration * percent) / 100, t.duration - lastFrame));
}

function pastEnd(spec: FrameSpec, t: VideoTiming): AppError {
  const asked = spec.kind === 'frame' ? `frame ${spec.frame}` : spec.kind === 'time' ? `time ${spec.seconds}s` : `${spec.percent}%`;
  const length = [t.frames === undefined ? undefined : `${t.frames} frames`, t.duration === undefined ? undefined : `${t.duration.toFixed(3)} s`]
    .filter((x) => x !== undefined).join(', ');
  return invalidInput('frame', `${asked} is past the end of the video${length === '' ? '' : ` (${length})`}`);
}

function positive(v: string | undefined): number | undefined {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function rate(v: string | undefined): number | undefined {
  const m = v === undefined ? null : /^(\d+)\/(\d+)$/.exec(v);
  if (m === null) return positive(v);
  const r = Number(m[1]) / Number(m[2]);
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

function runFfmpeg(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(bundledFfmpegPath(), args, {
      encoding: 'buffer', timeout: FRAME_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: MAX_FRAME_BYTES, windowsHide: true,
    }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        return reject(new AppError('Internal', `ffmpeg cannot be started (${err.code}): ${bundledFfmpegPath()}`, undefined, err));
      }
      const why = err.killed ? `timed out after ${FRAME_TIMEOUT_MS} ms` : firstLine(stderr.toString('utf8'));
      reject(new AppError('Unprocessable', `the video frame cannot be extracted: ${why}`, { field: 'path' }, err));
    });
  });
}

function firstLine(stderr: string): string {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'ffmpeg failed';
  // ffmpeg names its input in errors: the loopback URL means nothing to a client.
  const clean = line.replace(/https?:\/\/127\.0\.0\.1:\d+\/[0-9a-f]+/g, '<video>');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
