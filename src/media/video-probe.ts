/**
 * Video technical metadata (the wire's `fileMeta`) at upload time, from
 * ffprobe's container and stream headers. Nothing is decoded.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { VideoFileMeta } from '../catalog/types.ts';
import { AppError } from '../errors.ts';
import { runFfprobe } from './run-ffprobe.ts';
import type { FfprobeRunOptions } from './run-ffprobe.ts';
import { readHead, sniffMime } from './sniff.ts';

export { DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_PROBE_MAX_OUTPUT_BYTES, bundledFfprobePath } from './run-ffprobe.ts';

/** One stream of the file, trimmed to what clients use. */
export interface VideoStreamInfo {
  index: number;
  /** `video`, `audio`, `subtitle`, `data`… */
  codecType: string;
  codecName?: string;
  width?: number;
  height?: number;
  /** Seconds. */
  duration?: number;
  framesCount?: number;
  /** Seconds. */
  startTime?: number;
  /** Display rotation in degrees as ffprobe reports it (display matrix). */
  rotation?: number;
}

/** What {@link probeVideo} returns: the fileMeta with every core field set. */
export interface VideoProbe extends VideoFileMeta {
  mime: string;
  /** File size in bytes, as a decimal string (the wire's form). */
  size: string;
  width: number;
  height: number;
  /** Seconds. */
  duration: number;
  framesCount: number;
  codecName: string;
  codecType: string;
  /** ffprobe's format name, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`. */
  formatName: string;
  streams: VideoStreamInfo[];
  /** Start time of the main video stream in seconds. */
  startTime?: number;
  /** Rotation of the main video stream when not 0; see {@link probeVideo}. */
  rotation?: number;
  /** Coded width when `rotation` swapped width and height. */
  originalWidth?: number;
  /** Coded height when `rotation` swapped width and height. */
  originalHeight?: number;
}

/** Options of {@link probeVideo}: ffprobe limits, binary override, error field. */
export type ProbeVideoOptions = Omit<FfprobeRunOptions, 'redact'>;

/**
 * ffmpeg demuxer per sniffed container. Forcing it (instead of letting ffprobe
 * guess) keeps playlist-like formats (HLS, concat, ffconcat) from ever being
 * opened, so an upload cannot make ffprobe read other files or URLs.
 */
const DEMUXERS: Record<string, string> = {
  'video/mp4': 'mov',
  'video/quicktime': 'mov',
  'video/3gpp': 'mov',
  'video/3gpp2': 'mov',
  'video/webm': 'matroska',
  'video/x-matroska': 'matroska',
  'video/x-msvideo': 'avi',
  'video/x-flv': 'flv',
  'video/x-ms-wmv': 'asf',
};

const numeric = z.union([z.string(), z.number()]).optional();

const streamSchema = z.object({
  index: z.number().int(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  duration: numeric,
  nb_frames: numeric,
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  start_time: numeric,
  disposition: z.object({ attached_pic: z.number().optional() }).optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  side_data_list: z.array(z.object({ rotation: z.number().optional() })).optional(),
});

const outputSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.object({
    format_name: z.string(),
    duration: numeric,
    start_time: numeric,
  }),
});

const packetsSchema = z.object({ streams: z.array(z.object({ nb_read_packets: numeric })) });

type FfStream = z.infer<typeof streamSchema>;
type FfOutput = z.infer<typeof outputSchema>;

/**
 * Probes a video file with ffprobe (`-show_format -show_streams`, demuxer
 * forced from the magic bytes, `file:` protocol only).
 *
 * - `mime` comes from the magic bytes (ffprobe cannot tell MP4 from MOV).
 * - `width`/`height` are the display size: when the main stream carries a
 *   ±90°/270° rotation they are swapped and the coded size is kept in
 *   `originalWidth`/`originalHeight` (what the platform's SDK reports).
 * - `duration` is the container's, falling back to the stream's.
 * - `framesCount` is the stream's `nb_frames` when the container records it
 *   (MP4/MOV/AVI). Otherwise (WebM/MKV/FLV) it is round(duration × average
 *   frame rate), exact for constant-rate video, an estimate for variable rate.
 *   Only when neither is known are packets counted (a second, demux-only
 *   ffprobe pass over the file).
 * - `framesToTimecodes` is never produced: one number per frame is too large
 *   for every listing to carry; clients fall back to duration / framesCount.
 *
 * @throws AppError `Unprocessable` (details `{field}`) when the file is not a
 *   supported video, has no video stream, or ffprobe fails or times out;
 *   `Internal` when ffprobe cannot be started.
 */
export async function probeVideo(filePath: string, opts: ProbeVideoOptions = {}): Promise<VideoProbe> {
  const field = opts.field ?? 'file';
  const absolute = resolve(filePath);
  const sniffed = sniffMime(await readHead(absolute));
  const demuxer = sniffed ? DEMUXERS[sniffed.mime] : undefined;
  if (sniffed === undefined || demuxer === undefined) {
    throw unsupported(field, sniffed ? `${sniffed.mime} is not a video` : 'unrecognised content');
  }
  const runOpts: FfprobeRunOptions = { ...opts, redact: absolute };
  const args = ['-v', 'error', '-protocol_whitelist', 'file', '-f', demuxer, '-print_format', 'json',
    '-show_format', '-show_streams', `file:${absolute}`];
  const output = parseJson(await runFfprobe(args, runOpts), outputSchema, field);
  const main = output.streams.find(isMainVideo);
  if (main === undefined) throw unsupported(field, 'no video stream');
  const size = String((await stat(absolute)).size);
  const framesCount = frameCount(main) ?? await countPackets(absolute, demuxer, main.index, runOpts);
  return buildMeta({ output, main, mime: sniffed.mime, size, framesCount, field });
}

/** The ffmpeg demuxer forced for a sniffed video type; undefined when it is not a video this probe reads. */
export function demuxerFor(mime: string): string | undefined {
  return DEMUXERS[mime];
}

/**
 * fileMeta from ffprobe's `-show_format -show_streams` JSON, for a video whose
 * type and size are known without reading it whole (a remote object's start
 * fed on stdin). As {@link probeVideo}, except that frames the headers do not
 * record are estimated from the container's duration × the frame rate
 * (exact for constant-rate video): packets cannot be counted without the
 * whole file.
 * @throws AppError `Unprocessable` as {@link probeVideo}.
 */
export function videoMetaFromProbe(stdout: string, known: { mime: string; size: string; field: string }): VideoProbe {
  const output = parseJson(stdout, outputSchema, known.field);
  const main = output.streams.find(isMainVideo);
  if (main === undefined) throw unsupported(known.field, 'no video stream');
  const framesCount = frameCount(main) ?? estimatedFrames(main, output.format);
  return buildMeta({ output, main, ...known, framesCount });
}

/** Frames from the container's duration, less the time before the video stream starts, × its frame rate. */
function estimatedFrames(main: FfStream, format: FfOutput['format']): number | undefined {
  const length = toNumber(format.duration);
  if (length === undefined) return undefined;
  const lead = (toNumber(main.start_time) ?? 0) - (toNumber(format.start_time) ?? 0);
  return frameCount({ ...main, duration: length - Math.max(0, lead) });
}

function parseJson<T>(stdout: string, schema: z.ZodType<T>, field: string): T {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw unsupported(field, 'probe output is not JSON', err);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw unsupported(field, 'unexpected probe output', parsed.error);
  return parsed.data;
}

function isMainVideo(s: FfStream): boolean {
  // Cover art in MP4/MKV shows up as a one-frame video stream.
  return s.codec_type === 'video' && s.disposition?.attached_pic !== 1;
}

interface BuildInput {
  output: FfOutput;
  main: FfStream;
  mime: string;
  size: string;
  framesCount: number | undefined;
  field: string;
}

function buildMeta({ output, main, mime, size, framesCount, field }: BuildInput): VideoProbe {
  const { width, height, codec_name: codecName } = main;
  if (!positive(width) || !positive(height)) throw unsupported(field, 'video stream has no dimensions');
  if (codecName === undefined) throw unsupported(field, 'unknown video codec');
  const duration = toNumber(output.format.duration) ?? streamDuration(main);
  if (duration === undefined || framesCount === undefined) throw unsupported(field, 'video length is unknown');
  const meta: VideoProbe = {
    mime, size, width, height, duration, framesCount, codecName, codecType: 'video',
    formatName: output.format.format_name,
    streams: output.streams.map(trimStream),
  };
  const startTime = toNumber(main.start_time) ?? toNumber(output.format.start_time);
  if (startTime !== undefined) meta.startTime = startTime;
  const rotation = rotationOf(main);
  if (rotation !== undefined) {
    meta.rotation = rotation;
    if (Math.abs(rotation) % 180 === 90) {
      Object.assign(meta, { width: height, height: width, originalWidth: width, originalHeight: height });
    }
  }
  return meta;
}

function trimStream(s: FfStream): VideoStreamInfo {
  const info: VideoStreamInfo = { index: s.index, codecType: s.codec_type ?? 'unknown' };
  if (s.codec_name !== undefined) info.codecName = s.codec_name;
  if (positive(s.width) && positive(s.height)) Object.assign(info, { width: s.width, height: s.height });
  const duration = streamDuration(s);
  if (duration !== undefined) info.duration = duration;
  const frames = s.codec_type === 'video' ? frameCount(s) : undefined;
  if (frames !== undefined) info.framesCount = frames;
  const startTime = toNumber(s.start_time);
  if (startTime !== undefined) info.startTime = startTime;
  const rotation = rotationOf(s);
  if (rotation !== undefined) info.rotation = rotation;
  return info;
}

/** Recorded frame count, else duration × frame rate (see {@link probeVideo}). */
function frameCount(s: FfStream): number | undefined {
  const recorded = toNumber(s.nb_frames);
  if (recorded !== undefined && Number.isInteger(recorded) && recorded > 0) return recorded;
  const duration = streamDuration(s);
  const fps = frameRate(s.avg_frame_rate) ?? frameRate(s.r_frame_rate);
  if (duration === undefined || fps === undefined) return undefined;
  const frames = Math.round(duration * fps);
  return frames > 0 ? frames : undefined;
}

/** Stream duration: the header field, else Matroska's `DURATION` tag. */
function streamDuration(s: FfStream): number | undefined {
  const direct = toNumber(s.duration);
  if (direct !== undefined) return direct;
  const tag = s.tags?.['DURATION'] ?? s.tags?.['duration'];
  return typeof tag === 'string' ? parseTimecode(tag) : undefined;
}

/** `HH:MM:SS.fraction`, as Matroska muxers write stream durations. */
function parseTimecode(tc: string): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(tc.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** `num/den` → frames per second; `0/0` (unknown) → undefined. */
function frameRate(rate: string | undefined): number | undefined {
  const m = rate === undefined ? null : /^(\d+)\/(\d+)$/.exec(rate);
  if (!m) return undefined;
  const fps = Number(m[1]) / Number(m[2]);
  return Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

/**
 * Display-matrix rotation as ffprobe prints it. The legacy `rotate` tag
 * (clockwise) is only read when no matrix is present and is converted to the
 * matrix's counter-clockwise convention.
 */
function rotationOf(s: FfStream): number | undefined {
  const fromMatrix = s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const tag = s.tags?.['rotate'];
  const fromTag = typeof tag === 'string' && tag.trim() !== '' ? -Number(tag) : undefined;
  const rotation = fromMatrix ?? fromTag;
  return rotation === undefined || !Number.isFinite(rotation) || rotation % 360 === 0 ? undefined : rotation;
}

/** Demux-only pass counting the main stream's packets (one per frame for video). */
async function countPackets(absolute: string, demuxer: string, index: number, opts: FfprobeRunOptions): Promise<number | undefined> {
  const args = ['-v', 'error', '-protocol_whitelist', 'file', '-f', demuxer, '-count_packets',
    '-select_streams', String(index), '-show_entries', 'stream=nb_read_packets', '-print_format', 'json', `file:${absolute}`];
  const out = parseJson(await runFfprobe(args, opts), packetsSchema, opts.field ?? 'file');
  const packets = toNumber(out.streams[0]?.nb_read_packets);
  return packets !== undefined && packets > 0 ? packets : undefined;
}

function toNumber(v: string | number | undefined): number | undefined {
  if (v === undefined || v === '' || v === 'N/A') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function positive(n: number | undefined): n is number {
  return n !== undefined && n > 0;
}

function unsupported(field: string, reason: string, cause?: unknown): AppError {
  return new AppError('Unprocessable', `file is not a supported video: ${reason}`, { field }, cause);
}
