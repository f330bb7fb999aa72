/**
 * MIME types guessed from key extensions, for stores that do not keep a content
 * type per object (the local store) and as a default for uploads.
 */

/** Returned when the extension is unknown or missing. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const TYPES: ReadonlyMap<string, string> = new Map([
  // Images
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['jpe', 'image/jpeg'],
  ['jfif', 'image/jpeg'],
  ['png', 'image/png'],
  ['apng', 'image/apng'],
  ['webp', 'image/webp'],
  ['gif', 'image/gif'],
  ['bmp', 'image/bmp'],
  ['tif', 'image/tiff'],
  ['tiff', 'image/tiff'],
  ['avif', 'image/avif'],
  ['heic', 'image/heic'],
  ['heif', 'image/heif'],
  ['jxl', 'image/jxl'],
  ['jp2', 'image/jp2'],
  ['svg', 'image/svg+xml'],
  ['ico', 'image/vnd.microsoft.icon'],
  ['pnm', 'image/x-portable-anymap'],
  ['pgm', 'image/x-portable-graymap'],
  ['ppm', 'image/x-portable-pixmap'],
  ['dcm', 'application/dicom'],
  ['nrrd', 'application/octet-stream'],
  // Videos
  ['mp4', 'video/mp4'],
  ['m4v', 'video/mp4'],
  ['webm', 'video/webm'],
  ['mov', 'video/quicktime'],
  ['mkv', 'video/x-matroska'],
  ['avi', 'video/x-msvideo'],
  ['mpeg', 'video/mpeg'],
  ['mpg', 'video/mpeg'],
  ['ogv', 'video/ogg'],
  ['flv', 'video/x-flv'],
  ['wmv', 'video/x-ms-wmv'],
  ['3gp', 'video/3gpp'],
  ['m3u8', 'application/vnd.apple.mpegurl'],
  // Audio
  ['mp3', 'audio/mpeg'],
  ['wav', 'audio/wav'],
  ['ogg', 'audio/ogg'],
  ['flac', 'audio/flac'],
  // Text and data
  ['json', 'application/json'],
  ['jsonl', 'application/jsonl'],
  ['ndjson', 'application/x-ndjson'],
  ['txt', 'text/plain; charset=utf-8'],
  ['csv', 'text/csv; charset=utf-8'],
  ['tsv', 'text/tab-separated-values; charset=utf-8'],
  ['md', 'text/markdown; charset=utf-8'],
  ['html', 'text/html; charset=utf-8'],
  ['htm', 'text/html; charset=utf-8'],
  ['xml', 'application/xml'],
  ['yaml', 'application/yaml'],
  ['yml', 'application/yaml'],
  ['pdf', 'application/pdf'],
  ['parquet', 'application/vnd.apache.parquet'],
  ['pcd', 'application/octet-stream'],
  ['ply', 'application/octet-stream'],
  ['npy', 'application/octet-stream'],
  // Archives
  ['zip', 'application/zip'],
  ['tar', 'application/x-tar'],
  ['gz', 'application/gzip'],
  ['tgz', 'application/gzip'],
  ['bz2', 'application/x-bzip2'],
  ['xz', 'application/x-xz'],
  ['zst', 'application/zstd'],
  ['7z', 'application/x-7z-compressed'],
]);

/**
 * MIME type for `key` from its extension (case-insensitive), or
 * `application/octet-stream` when unknown. Only the last path segment counts,
 * and a leading dot (`.env`) is a hidden-file marker, not an extension.
 */
export function contentTypeFor(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return TYPES.get(name.slice(dot + 1).toLowerCase()) ?? DEFAULT_CONTENT_TYPE;
}
