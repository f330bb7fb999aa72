/**
 * Display window of 16-bit images (PNG/TIFF from machine-vision, thermal and
 * depth cameras).
 *
 * Such data rarely fills its range: 12-bit sensor values in a 16-bit
 * container, or a depth map in millimetres, would look black if simply
 * scaled by 1/256. So the samples are mapped linearly from their 0.5th to
 * their 99.5th percentile onto 0–255 (alpha is left alone), the "auto
 * contrast" of image viewers. Percentiles come from a nearest-neighbour
 * sample of at most 1024 px a side, so the full image is read only once,
 * by the final pipeline.
 */
import sharp, { type Sharp, type SharpOptions } from 'sharp';

/** Fraction of samples clipped at each end of the window. */
export const WINDOW_CLIP = 0.005;
const SAMPLE_SIDE = 1024;

/** A linear window over sample values: `lo` maps to black, `hi` to white. */
export interface SampleWindow {
  lo: number;
  hi: number;
}

/**
 * Whether an image's samples need a window to show in 8 bits: 16-bit ones.
 * Other depths (float TIFFs) are left to libvips' own cast.
 */
export function needsWindow(depth: string | undefined): boolean {
  return depth === 'ushort';
}

/**
 * The window of an image's colour samples (alpha excluded), from a sample of
 * its pixels. `input` and `options` are what the caller opens the image with.
 */
export async function measureWindow(input: Buffer | string, options: SharpOptions, o: { grey: boolean; hasAlpha: boolean }): Promise<SampleWindow> {
  // Without the 16-bit colourspace, sharp's output stage would cast to 8 bits first.
  const { data, info } = await sharp(input, options)
    .resize(SAMPLE_SIDE, SAMPLE_SIDE, { fit: 'inside', withoutEnlargement: true, kernel: 'nearest' })
    .toColourspace(o.grey ? 'grey16' : 'rgb16')
    .raw({ depth: 'ushort' })
    .toBuffer({ resolveWithObject: true });
  const all = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  const colour = o.hasAlpha ? withoutAlpha(all, info.channels) : all;
  return percentileWindow(colour);
}

function withoutAlpha(samples: Uint16Array, channels: number): Uint16Array {
  const out = new Uint16Array((samples.length / channels) * (channels - 1));
  for (let i = 0, o = 0; i < samples.length; i += channels) {
    for (let c = 0; c < channels - 1; c++) out[o++] = samples[i + c] ?? 0;
  }
  return out;
}

/** The {@link WINDOW_CLIP} percentiles of `samples`; a flat image gets a window of width 1 starting at its value. */
export function percentileWindow(samples: Uint16Array): SampleWindow {
  if (samples.length === 0) return { lo: 0, hi: 1 };
  const sorted = Uint16Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? 0;
  const lo = at(WINDOW_CLIP);
  const hi = at(1 - WINDOW_CLIP);
  return hi > lo ? { lo, hi } : { lo, hi: lo + 1 };
}

/**
 * Applies the window and leaves 8-bit sRGB (or greyscale) samples: the
 * linear step maps the window onto 0–65535, the colourspace step then
 * casts to 8 bits, clipping what falls outside.
 */
export function applyWindow(image: Sharp, w: SampleWindow, o: { channels: number; hasAlpha: boolean }): Sharp {
  const scale = 65535 / (w.hi - w.lo);
  const colour = o.hasAlpha ? o.channels - 1 : o.channels;
  const a = Array.from({ length: o.channels }, (_v, c) => (c < colour ? scale : 1));
  const b = Array.from({ length: o.channels }, (_v, c) => (c < colour ? -w.lo * scale : 0));
  const grey = colour === 1;
  return image.linear(a, b).toColourspace(grey ? 'b-w' : 'srgb');
}
