/**
 * Runs the ffprobe binary with hard limits: a wall-clock timeout (the process
 * is SIGKILLed, since a pathological file can keep ffprobe busy for minutes)
 * and a cap on captured output.
 */
import { execFile } from 'node:child_process';
import type { ExecFileException } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { AppError } from '../errors.ts';

/** Default wall-clock limit of one ffprobe run. */
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;
/** Default cap on ffprobe's stdout; real files produce a few KiB of JSON. */
export const DEFAULT_PROBE_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Limits and overrides of one ffprobe run. */
export interface FfprobeRunOptions {
  /** Binary to run. Default: the one bundled by `@ffprobe-installer/ffprobe`. */
  ffprobePath?: string;
  /** Default {@link DEFAULT_PROBE_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Default {@link DEFAULT_PROBE_MAX_OUTPUT_BYTES}. */
  maxOutputBytes?: number;
  /** Cancels the run (the process is killed and the abort error is rethrown). */
  signal?: AbortSignal;
  /** Request field named in error details. Default `file`. */
  field?: string;
  /** Replaced by `<file>` in error messages so server paths do not leak. */
  redact?: string;
  /**
   * Fed to ffprobe's standard input (`pipe:0`). It is destroyed when ffprobe
   * exits, so an input ffprobe stops reading early is not read further.
   */
  stdin?: Readable;
}

/** Path of the bundled ffprobe binary. */
export function bundledFfprobePath(): string {
  return ffprobeInstaller.path;
}

/**
 * Runs ffprobe with `args` and resolves with its stdout.
 *
 * @throws AppError `Unprocessable` when ffprobe fails, times out or prints too
 *   much; `Internal` when the binary cannot be started; the abort error when
 *   `signal` fires.
 */
export function runFfprobe(args: string[], opts: FfprobeRunOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const bin = opts.ffprobePath ?? bundledFfprobePath();
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      args,
      {
        encoding: 'utf8',
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: opts.maxOutputBytes ?? DEFAULT_PROBE_MAX_OUTPUT_BYTES,
        windowsHide: true,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (err, stdout, stderr) => {
        opts.stdin?.destroy();
        if (err) reject(toAppError(err, stderr, { ...opts, bin, timeoutMs }));
        else resolve(stdout);
      },
    );
    // ffprobe closing its input once it has seen enough (EPIPE) is normal; its exit status tells the outcome.
    if (opts.stdin !== undefined && child.stdin !== null) pipeline(opts.stdin, child.stdin).catch(() => undefined);
  });
}

type ErrorContext = FfprobeRunOptions & { bin: string; timeoutMs: number };

function toAppError(err: ExecFileException, stderr: string, ctx: ErrorContext): unknown {
  const details = { field: ctx.field ?? 'file' };
  if (err.name === 'AbortError') return err;
  if (err.code === 'ENOENT' || err.code === 'EACCES') {
    return new AppError('Internal', `ffprobe cannot be started (${err.code}): ${ctx.bin}`, undefined, err);
  }
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    return new AppError('Unprocessable', 'file is not a supported video: probe output too large', details, err);
  }
  // execFile sets `killed` only when it killed the process itself, i.e. on timeout here.
  if (err.killed) {
    return new AppError('Unprocessable', `file is not a supported video: probe timed out after ${ctx.timeoutMs} ms`, details, err);
  }
  return new AppError('Unprocessable', `file is not a supported video: ${summarise(stderr, ctx.redact)}`, details, err);
}

/** First meaningful stderr line, without the server-side path. */
function summarise(stderr: string, redact: string | undefined): string {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'ffprobe failed';
  const clean = redact ? line.split(redact).join('<file>') : line;
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
