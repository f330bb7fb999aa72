/**
 * Image and video fixtures for tests across the project. Everything is
 * generated (no binary files in the repo) and deterministic: the same
 * arguments give the same bytes, and `seed` changes the pixels so hashes differ.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';
import type { Sharp } from 'sharp';

const run = promisify(execFile);

/** Path of the ffmpeg binary used to generate videos. */
export const ffmpegPath: string = ffmpegInstaller.path;

/** Options of the sharp-encoded image makers. */
export interface ImageFixtureOptions {
  /** Varies the pixels; different seeds give different bytes. Default 0. */
  seed?: number;
  /** EXIF Orientation tag (1–8) to write (JPEG/WebP/PNG/TIFF). */
  orientation?: number;
}

/**
 * A patterned RGB image. Pixels are computed, so keep sizes modest (the raw
 * buffer is w×h×3 bytes); use {@link makeBlankPng} for huge canvases.
 */
function patterned(w: number, h: number, opts: ImageFixtureOptions): Sharp {
  const seed = opts.seed ?? 0;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      raw[i] = (x * 7 + seed * 31) & 255;
      raw[i + 1] = (y * 5 + seed * 17) & 255;
      raw[i + 2] = ((x ^ y) * 3 + seed * 13) & 255;
    }
  }
  // The seed's bytes in the first pixels make any two seeds differ, not just most.
  for (let b = 0; b < 4 && b < w * h; b++) raw[b * 3] = (seed >>> (b * 8)) & 255;
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return opts.orientation === undefined ? img : img.withMetadata({ orientation: opts.orientation });
}

/** A w×h JPEG (quality 90). */
export function makeJpeg(w: number, h: number, opts: ImageFixtureOptions = {}): Promise<Buffer> {
  return patterned(w, h, opts).jpeg({ quality: 90 }).toBuffer();
}

/** A w×h PNG. */
export function makePng(w: number, h: number, opts: ImageFixtureOptions = {}): Promise<Buffer> {
  return patterned(w, h, opts).png().toBuffer();
}

/** A w×h lossless WebP. */
export function makeWebp(w: number, h: number, opts: ImageFixtureOptions = {}): Promise<Buffer> {
  return patterned(w, h, opts).webp({ lossless: true }).toBuffer();
}

/** A w×h single-frame GIF. */
export function makeGif(w: number, h: number, opts: ImageFixtureOptions = {}): Promise<Buffer> {
  return patterned(w, h, opts).gif().toBuffer();
}

/** A w×h TIFF (little-endian, as libtiff writes on x86). */
export function makeTiff(w: number, h: number, opts: ImageFixtureOptions = {}): Promise<Buffer> {
  return patterned(w, h, opts).tiff().toBuffer();
}

/** A w×h AVIF (HEIF container, AV1). */
export function makeAvif(w: number, h: number, opts: ImageFixtureOptions = {}): Promise<Buffer> {
  return patterned(w, h, opts).avif({ effort: 0 }).toBuffer();
}

/**
 * A 24-bit BMP, written by hand because sharp has no BMP encoder. Rows are
 * bottom-up (positive height), the common layout.
 */
export function makeBmp(w: number, h: number, opts: { seed?: number } = {}): Buffer {
  const rowBytes = Math.ceil((w * 3) / 4) * 4;
  const pixelBytes = rowBytes * h;
  const buf = Buffer.alloc(54 + pixelBytes);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(w, 18);
  buf.writeInt32LE(h, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(pixelBytes, 34);
  buf.fill((opts.seed ?? 0) & 255, 54);
  return buf;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid all-black 1-bit greyscale PNG built by hand: a 20000×20000 canvas
 * is ~50 KB and takes a fraction of a second, where encoding through sharp
 * would push 400 M pixels.
 */
export function makeBlankPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((Math.ceil(w / 8) + 1) * h); // filter byte 0 + zero bits per row
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Containers {@link makeVideo} can write. */
export type VideoContainer = 'mp4' | 'webm' | 'mov' | 'mkv' | 'avi' | 'flv' | '3gp' | 'wmv';

/** A synthetic video: lavfi `testsrc` at a fixed rate, so frames = seconds × fps. */
export interface VideoFixtureSpec {
  container: VideoContainer;
  /** Even numbers: the 4:2:0 encoders need them. */
  width: number;
  height: number;
  seconds: number;
  fps: number;
  /** Adds a display-matrix rotation (clockwise degrees, MP4/MOV only). */
  rotate?: number;
  /** Adds a sine audio track. */
  audio?: boolean;
}

/** Encoder preference per container; the first one the ffmpeg build has wins. */
const VIDEO_ENCODERS: Record<VideoContainer, readonly string[]> = {
  mp4: ['libx264', 'mpeg4'],
  mov: ['libx264', 'mpeg4'],
  mkv: ['libx264', 'mpeg4'],
  '3gp': ['libx264', 'mpeg4'],
  webm: ['libvpx', 'libvpx-vp9', 'libaom-av1'],
  avi: ['mpeg4', 'libx264'],
  flv: ['flv', 'libx264'],
  wmv: ['wmv2', 'wmv1', 'msmpeg4'],
};

const AUDIO_ENCODERS: Record<VideoContainer, readonly string[]> = {
  mp4: ['aac'], mov: ['aac'], mkv: ['aac'], '3gp': ['aac'],
  webm: ['libopus', 'libvorbis'], avi: ['libmp3lame', 'aac'], flv: ['aac', 'libmp3lame'], wmv: ['wmav2'],
};

/** Encoder-specific flags: fastest settings, tiny bitrates. */
const ENCODER_ARGS: Record<string, readonly string[]> = {
  libx264: ['-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  libvpx: ['-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k'],
  'libvpx-vp9': ['-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k'],
  'libaom-av1': ['-cpu-used', '8', '-strict', 'experimental'],
};

const MUXERS: Record<VideoContainer, string> = {
  mp4: 'mp4', mov: 'mov', mkv: 'matroska', '3gp': '3gp', webm: 'webm', avi: 'avi', flv: 'flv', wmv: 'asf',
};

let encodersOnce: Promise<Set<string>> | undefined;

/** Encoders of the bundled ffmpeg build (video and audio), read once per process. */
export function availableEncoders(): Promise<Set<string>> {
  encodersOnce ??= run(ffmpegPath, ['-hide_banner', '-encoders'], { maxBuffer: 4 * 1024 * 1024 }).then(({ stdout }) => {
    const names = stdout.split('\n').map((l) => /^ [VAS][A-Z.]{5} (\S+)/.exec(l)?.[1]);
    return new Set(names.filter((n): n is string => n !== undefined));
  });
  return encodersOnce;
}

/** The video encoder {@link makeVideo} uses for a container. */
export async function videoEncoderFor(container: VideoContainer): Promise<string> {
  return pick(await availableEncoders(), VIDEO_ENCODERS[container], container);
}

function pick(have: Set<string>, wanted: readonly string[], container: string): string {
  const found = wanted.find((e) => have.has(e));
  if (found === undefined) throw new Error(`ffmpeg has none of ${wanted.join(', ')} for ${container}`);
  return found;
}

let cacheDirOnce: Promise<string> | undefined;
const generated = new Map<string, Promise<string>>();

function cacheDir(): Promise<string> {
  cacheDirOnce ??= mkdtemp(join(tmpdir(), 'stowage-video-fixtures-')).then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return cacheDirOnce;
}

function fixtureName(s: VideoFixtureSpec): string {
  const extras = `${s.rotate ? `-rot${s.rotate}` : ''}${s.audio ? '-audio' : ''}`;
  return `testsrc-${s.width}x${s.height}-${s.seconds}s-${s.fps}fps${extras}.${s.container}`;
}

/**
 * Writes a synthetic video into `dir` and returns its path. Each distinct spec
 * is encoded once per process (into a private cache directory, removed at
 * exit) and copied on later calls, so tests may delete their `dir` freely.
 */
export async function makeVideo(dir: string, spec: VideoFixtureSpec): Promise<string> {
  const name = fixtureName(spec);
  let cached = generated.get(name);
  if (cached === undefined) {
    cached = cacheDir().then((d) => encodeVideo(join(d, name), spec));
    generated.set(name, cached);
    cached.catch(() => generated.delete(name));
  }
  const dest = join(dir, name);
  await copyFile(await cached, dest);
  return dest;
}

async function encodeVideo(out: string, s: VideoFixtureSpec): Promise<string> {
  const encoders = await availableEncoders();
  const vcodec = pick(encoders, VIDEO_ENCODERS[s.container], s.container);
  const inputs = ['-f', 'lavfi', '-i', `testsrc=size=${s.width}x${s.height}:rate=${s.fps}:duration=${s.seconds}`];
  const audio: string[] = [];
  if (s.audio) {
    inputs.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${s.seconds}`);
    audio.push('-c:a', pick(encoders, AUDIO_ENCODERS[s.container], s.container));
  }
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...inputs,
    '-c:v', vcodec, ...(ENCODER_ARGS[vcodec] ?? ['-q:v', '5', '-pix_fmt', 'yuv420p']), ...audio,
    '-f', MUXERS[s.container], s.rotate ? `${out}.unrotated` : out,
  ];
  await run(ffmpegPath, args, { timeout: 60_000, killSignal: 'SIGKILL' });
  // This ffmpeg drops the rotate tag while encoding but keeps it on a stream copy.
  if (s.rotate) {
    await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', `${out}.unrotated`,
      '-c', 'copy', '-metadata:s:v:0', `rotate=${s.rotate}`, '-f', MUXERS[s.container], out], { timeout: 60_000, killSignal: 'SIGKILL' });
  }
  return out;
}

/** Options of {@link makeMetadataHeavyJpeg}. */
export interface HeavyJpegOptions extends ImageFixtureOptions {
  /** Characters of EXIF ImageDescription (one APP1 segment; at most ~65,000). */
  exifChars: number;
  /** XMP packets of ~60 KB each, as extra APP1 segments before the frame header. */
  xmpSegments?: number;
}

/**
 * A w×h JPEG whose metadata (a large EXIF block, optionally XMP packets) comes
 * before the frame header, pushing the SOF marker tens or hundreds of KB into
 * the file, as camera and editing-tool exports do.
 */
export async function makeMetadataHeavyJpeg(w: number, h: number, opts: HeavyJpegOptions): Promise<Buffer> {
  const jpeg = await patterned(w, h, opts).jpeg({ quality: 90 })
    .withExif({ IFD0: { ImageDescription: 'x'.repeat(opts.exifChars), Make: 'Stowage fixtures' } })
    .toBuffer();
  const xmp: Buffer[] = [];
  for (let i = 0; i < (opts.xmpSegments ?? 0); i++) {
    const packet = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- ${'p'.repeat(60_000)} --></x:xmpmeta><?xpacket end="w"?>`;
    const body = Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(packet, 'utf8')]);
    const header = Buffer.from([0xff, 0xe1, 0, 0]);
    header.writeUInt16BE(body.length + 2, 2);
    xmp.push(header, body);
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...xmp, jpeg.subarray(2)]);
}
