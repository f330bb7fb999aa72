/**
 * The sharp operations of a preview and of a conversion for display, applied
 * to an image opened by {@link openImage}. Output is sRGB (libvips converts
 * through the original's ICC profile, so colours look the same) with all
 * metadata stripped; orientation is already applied.
 */
import type { Sharp } from 'sharp';
import type { DecodedImage } from './convert-decode.ts';
import { previewGeometry } from './preview-geometry.ts';
import type { PreviewFormat, PreviewOptions } from './preview-url.ts';

/** MIME type of each preview format. */
export const FORMAT_MIME: Record<PreviewFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif',
};

const SAME_FORMAT: Record<string, PreviewFormat> = {
  'image/jpeg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp', 'image/avif': 'avif',
};

/**
 * The format of a preview whose URL names none: the original's when it is
 * one of the preview formats, else JPEG, or PNG when there is transparency.
 */
export function defaultFormat(mime: string, hasAlpha: boolean): PreviewFormat {
  return SAME_FORMAT[mime] ?? (hasAlpha ? 'png' : 'jpeg');
}

/** Resizes and encodes; returns the pipeline to read the preview from. */
export function renderPreview(img: DecodedImage, o: PreviewOptions, format: PreviewFormat): Sharp {
  const g = previewGeometry({ width: img.width, height: img.height }, o);
  let image = img.image;
  if (g.width !== img.width || g.height !== img.height) {
    image = image.resize(g.width, g.height, g.crop ? { fit: 'cover', position: 'centre' } : { fit: 'fill' });
  }
  return encode(image, format, o.quality, img.hasAlpha);
}

/** The display version of an image browsers cannot show: lossless 8-bit PNG, full size. */
export function renderForDisplay(img: DecodedImage): Sharp {
  return img.image.png({ compressionLevel: 4 });
}

function encode(image: Sharp, format: PreviewFormat, quality: number, hasAlpha: boolean): Sharp {
  switch (format) {
    case 'jpeg':
      // JPEG has no alpha: transparent areas become white, as on a page, not black.
      return (hasAlpha ? image.flatten({ background: '#ffffff' }) : image).jpeg({ quality });
    case 'png':
      return image.png({ compressionLevel: 6 });
    case 'webp':
      return image.webp({ quality });
    case 'avif':
      // Effort 2 of 9: AVIF's default effort costs seconds per preview.
      return image.avif({ quality, effort: 2 });
  }
}
