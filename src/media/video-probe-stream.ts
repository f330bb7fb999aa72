/**
 * Video technical metadata from the start of a file fed to ffprobe on its
 * standard input, for linked objects that must not be downloaded whole.
 * Matroska/WebM, AVI, FLV and ASF (WMV) keep dimensions, codec, duration and
 * frame rate in headers at the start; on a pipe ffprobe cannot seek, so it
 * reads those headers and the first packets, then stops.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import type { FfprobeRunOptions } from './run-ffprobe.ts';
import { runFfprobe } from './run-ffprobe.ts';
import { demuxerFor, videoMetaFromProbe, type VideoProbe } from './video-probe.ts';

/** What is known of the video without probing it. */
export interface KnownVideo {
  /** Sniffed from the magic bytes; chooses the demuxer. */
  mime: string;
  /** Size of the whole file, in bytes. */
  size: number;
}

/** Options of {@link probeVideoStream}: ffprobe limits, binary override, error field. */
export type ProbeStreamOptions = Omit<FfprobeRunOptions, 'redact' | 'stdin'>;

/**
 * Probes a video from `input`, the file's first bytes (the caller bounds how
 * many). ffprobe is killed at the timeout, and `input` is destroyed as soon as
 * ffprobe exits, so bytes it does not need are never read. `size` and `mime`
 * come from `known`; frames the headers do not record are estimated from
 * duration × frame rate (see `videoMetaFromProbe`).
 * @throws AppError `Unprocessable` when the start is not a supported video,
 *   lacks a header field or the probe times out; `Internal` when ffprobe
 *   cannot be started.
 */
export async function probeVideoStream(input: Readable, known: KnownVideo, opts: ProbeStreamOptions = {}): Promise<VideoProbe> {
  const field = opts.field ?? 'file';
  const demuxer = demuxerFor(known.mime);
  if (demuxer === undefined) {
    input.destroy();
    throw new AppError('Unprocessable', `file is not a supported video: ${known.mime} is not a video`, { field });
  }
  // Only the pipe protocol: nothing in the input can make ffprobe open files or URLs.
  const args = ['-v', 'error', '-protocol_whitelist', 'pipe', '-f', demuxer, '-print_format', 'json',
    '-show_format', '-show_streams', 'pipe:0'];
  const stdout = await runFfprobe(args, { ...opts, stdin: input });
  return videoMetaFromProbe(stdout, { mime: known.mime, size: String(known.size), field });
}
