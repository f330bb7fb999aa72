/**
 * Metadata of linked images and videos (`forceMetadataForLinks`), read from
 * the start of the remote object, never all of it:
 *
 * - Images: one ranged get of the first 4 KiB holds the whole header of most
 *   files; when it does not (EXIF/ICC segments before a JPEG's SOF, a TIFF
 *   IFD after the pixels) the parser names the bytes it needs and only those
 *   are fetched (chunks of 4 KiB growing ×4 per read), within 1 MiB and 12
 *   gets per object (see `remote-bytes.ts`).
 * - Videos: mime from the magic bytes, size from the same ranged get. For
 *   ISO-BMFF files (MP4, MOV, 3GP) the top-level box headers are walked and
 *   only `moov` (≤ 8 MiB: the sample tables of hours of video) is fetched,
 *   wherever it sits; ffprobe then reads a sparse temp file holding those
 *   bytes at their offsets, which gives the same fileMeta as probing the
 *   whole file. Other containers (WebM, MKV, AVI, FLV, WMV) keep their
 *   headers at the start: the first 2 MiB at most are streamed to ffprobe's
 *   stdin, which stops reading once it has the headers and first packets.
 *   A probe that fails leaves `{mime, size}`; the link is still valid.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import type { VideoFileMeta } from '../catalog/types.ts';
import { findTopBox } from '../media/image-header-containers.ts';
import { parseImageHeader } from '../media/image-header.ts';
import { NeedBytes } from '../media/sparse-bytes.ts';
import { SNIFF_HEAD_BYTES, sniffMime } from '../media/sniff.ts';
import { probeVideo } from '../media/video-probe.ts';
import { probeVideoStream } from '../media/video-probe-stream.ts';
import { isStorageError } from '../storage/errors.ts';
import type { Located } from './items.ts';
import { BudgetExceeded, EmptyObject, RemoteBytes } from './remote-bytes.ts';

/** What a linked image's header says, and what reading it cost. */
export interface ImageLinkMeta {
  mime: string;
  size: number;
  width: number;
  height: number;
  /** Bytes received from the store (for tests and benchmarks). */
  bytesRead: number;
}

/** What a linked video's start says. */
export interface VideoLinkMeta {
  mime: string;
  size: number;
  fileMeta: VideoFileMeta;
  bytesRead: number;
}

/** Options of {@link LinkMetadataReader}. */
export interface LinkMetadataOptions {
  /** Scratch folder for the sparse copies ffprobe reads. */
  tmpDir: string;
  /** Wall-clock limit of one ffprobe run; default 10 s. */
  probeTimeoutMs?: number;
}

/** Largest `moov` fetched for a probe. */
const MAX_MOOV_BYTES = 8 * 1024 * 1024;
/** Most bytes of other containers' starts streamed to ffprobe. */
export const VIDEO_PREFIX_BYTES = 2 * 1024 * 1024;
const ISO_BMFF = new Set(['video/mp4', 'video/quicktime', 'video/3gpp', 'video/3gpp2']);

/** A link described in a message: the request field and the link. */
interface Named {
  link: string;
  field: string;
}

/** Reads linked objects' headers. One instance serves every request. */
export class LinkMetadataReader {
  readonly #o: LinkMetadataOptions;

  constructor(options: LinkMetadataOptions) {
    this.#o = options;
  }

  get #timeoutMs(): number {
    return this.#o.probeTimeoutMs ?? 10_000;
  }

  /**
   * Type, size and dimensions of a linked image.
   * @throws AppError `InvalidInput` naming the link when the object does not
   *   exist; `Unprocessable` when it is not a supported image. Other storage
   *   errors propagate.
   */
  async image(at: Located, named: Named): Promise<ImageLinkMeta> {
    const src = await openNamed(at, named, 'image');
    try {
      const result = await src.until(() => {
        const r = parseImageHeader(src.bytes);
        if (r.status === 'need') throw new NeedBytes(r.offset, r.length);
        return r;
      });
      if (result.status === 'invalid') throw unsupported(named, 'image', result.reason);
      return { ...result.header, size: src.size, bytesRead: src.bytesRead };
    } catch (err) {
      if (err instanceof BudgetExceeded) throw unsupported(named, 'image', err.message);
      throw err;
    }
  }

  /** Mime, size and fileMeta of a linked video; errors as {@link image}. */
  async video(at: Located, named: Named): Promise<VideoLinkMeta> {
    const src = await openNamed(at, named, 'video');
    const sniffed = sniffMime(src.bytes.read(0, Math.min(SNIFF_HEAD_BYTES, src.size)));
    if (sniffed === undefined) throw unsupported(named, 'video', 'unrecognised content');
    if (sniffed.kind !== 'video') throw unsupported(named, 'video', `${sniffed.mime} is not a video`);
    const basic: VideoFileMeta = { mime: sniffed.mime, size: String(src.size) };
    const probe = ISO_BMFF.has(sniffed.mime) ? this.#probeBmff(src, named) : this.#probePrefix(src, sniffed.mime, named);
    const probed = await probe.catch(() => undefined);
    const fileMeta = probed === undefined ? basic : { ...probed, ...basic };
    return { mime: sniffed.mime, size: src.size, fileMeta, bytesRead: src.bytesRead };
  }

  /** Streams the object's start (headers first in these containers) to ffprobe. */
  #probePrefix(src: RemoteBytes, mime: string, named: Named): Promise<VideoFileMeta> {
    const opts = { field: named.field, timeoutMs: this.#timeoutMs };
    return probeVideoStream(src.prefix(VIDEO_PREFIX_BYTES), { mime, size: src.size }, opts);
  }

  /** Fetches box headers and `moov`, writes them into a sparse file of the object's size, probes it. */
  async #probeBmff(src: RemoteBytes, named: Named): Promise<VideoFileMeta> {
    const moov = await src.until(() => findTopBox(src.bytes, 'moov'));
    const length = moov.end - moov.start;
    if (length > MAX_MOOV_BYTES) throw new BudgetExceeded(`moov of ${length} bytes`);
    await src.until(() => src.bytes.read(moov.start, length), MAX_MOOV_BYTES);
    await mkdir(this.#o.tmpDir, { recursive: true });
    const path = join(this.#o.tmpDir, `link-${randomUUID()}.bin`);
    try {
      const fh = await open(path, 'wx');
      try {
        for (const s of src.bytes.segments()) await fh.write(s.data, 0, s.data.length, s.offset);
        await fh.truncate(src.size);
      } finally {
        await fh.close();
      }
      return await probeVideo(path, { field: named.field, timeoutMs: this.#timeoutMs });
    } finally {
      await rm(path, { force: true });
    }
  }
}

/** The first ranged get, with "does not exist" and "empty" named after the link. */
async function openNamed(at: Located, named: Named, kind: 'image' | 'video'): Promise<RemoteBytes> {
  try {
    return await RemoteBytes.open(at);
  } catch (err) {
    if (isStorageError(err, 'NotFound')) {
      throw new AppError('InvalidInput', `${named.field}: ${named.link} does not exist`, { field: named.field, link: named.link }, err);
    }
    if (err instanceof EmptyObject) throw unsupported(named, kind, 'empty file');
    throw err;
  }
}

function unsupported(named: Named, kind: 'image' | 'video', reason: string): AppError {
  return new AppError('Unprocessable', `${named.field}: ${named.link} is not a supported ${kind}: ${reason}`, {
    field: named.field, link: named.link,
  });
}
