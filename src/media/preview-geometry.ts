/**
 * Output size of a preview, following imgproxy's resizing types, computed
 * from the (orientation-applied) source size. Pure arithmetic, so every
 * resize rule is tested without decoding an image.
 */
import { MAX_PREVIEW_SIDE, type PreviewOptions } from './preview-url.ts';

/** What to do to the source: scale to `width`×`height`, cropping the centre when `crop`. */
export interface PreviewGeometry {
  width: number;
  height: number;
  /** Scale to cover the box and cut the overflow equally from both sides (fill, fill-down). */
  crop: boolean;
}

interface Size {
  width: number;
  height: number;
}

/**
 * The preview's size for a source of `src` pixels.
 *
 * - fit: as large as fits in the box, aspect kept;
 * - fill: covers the box, aspect kept, overflow cropped from the centre;
 * - fill-down: fill, but when the source is too small for the box (and
 *   enlarge is off) the box shrinks, keeping its aspect ratio;
 * - force: exactly the box, aspect not kept;
 * - auto: fill when source and box have the same orientation, else fit.
 *
 * A 0 side of the box is derived from the other one; a 0×0 box keeps the
 * source size (compress only). Without enlarge nothing is scaled up.
 * Results never exceed {@link MAX_PREVIEW_SIDE} a side.
 */
export function previewGeometry(src: Size, o: Pick<PreviewOptions, 'resize' | 'width' | 'height' | 'enlarge'>): PreviewGeometry {
  const { width: w, height: h } = o;
  if (o.resize === 'force') return capped(forced(src, o), false);
  const type = o.resize === 'auto' ? (w > 0 && h > 0 && sameOrientation(src, { width: w, height: h }) ? 'fill' : 'fit') : o.resize;
  const scale = limitScale(scaleFor(type, src, w, h), o.enlarge);
  const scaled = { width: src.width * scale, height: src.height * scale };
  if (type === 'fit' || w === 0 || h === 0) return capped(rounded(scaled), false);
  let box = { width: Math.min(w, scaled.width), height: Math.min(h, scaled.height) };
  if (type === 'fill-down' && (scaled.width < w || scaled.height < h)) {
    const k = Math.min(scaled.width / w, scaled.height / h);
    box = { width: w * k, height: h * k };
  }
  return capped(rounded(box), true);
}

function sameOrientation(a: Size, b: Size): boolean {
  return (a.width >= a.height) === (b.width >= b.height);
}

function scaleFor(type: 'fit' | 'fill' | 'fill-down', src: Size, w: number, h: number): number {
  const wr = w > 0 ? w / src.width : undefined;
  const hr = h > 0 ? h / src.height : undefined;
  if (wr === undefined || hr === undefined) return wr ?? hr ?? 1;
  return type === 'fit' ? Math.min(wr, hr) : Math.max(wr, hr);
}

function limitScale(scale: number, enlarge: boolean): number {
  return enlarge ? scale : Math.min(scale, 1);
}

function forced(src: Size, o: Pick<PreviewOptions, 'width' | 'height' | 'enlarge'>): Size {
  const wr = o.width > 0 ? o.width / src.width : o.height > 0 ? o.height / src.height : 1;
  const hr = o.height > 0 ? o.height / src.height : wr;
  return rounded({
    width: src.width * limitScale(wr, o.enlarge),
    height: src.height * limitScale(hr, o.enlarge),
  });
}

function rounded(s: Size): Size {
  return { width: Math.max(1, Math.round(s.width)), height: Math.max(1, Math.round(s.height)) };
}

function capped(s: Size, crop: boolean): PreviewGeometry {
  const over = Math.max(s.width, s.height) / MAX_PREVIEW_SIDE;
  if (over <= 1) return { ...s, crop };
  return { ...rounded({ width: s.width / over, height: s.height / over }), crop };
}
