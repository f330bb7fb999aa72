/** Object metadata from the properties Azure returns on reads, writes and listings. */
import type { ObjectInfo } from '../../object-store.ts';

/** The properties we use, as named by both `getProperties` and listing items. */
export interface BlobProps {
  readonly etag?: string | undefined;
  readonly lastModified?: Date | undefined;
  readonly contentLength?: number | undefined;
  readonly contentType?: string | undefined;
}

/** Azure quotes ETags in headers but not in listings; the contract wants them quoted. */
export function quoteEtag(etag: string | undefined): string {
  if (etag === undefined || etag === '') return '""';
  return etag.startsWith('"') || etag.startsWith('W/"') ? etag : `"${etag}"`;
}

/** An {@link ObjectInfo} from blob properties; `size` overrides the content length when known. */
export function objectInfo(bucket: string, key: string, props: BlobProps, size?: number): ObjectInfo {
  return {
    bucket,
    key,
    size: size ?? props.contentLength ?? 0,
    etag: quoteEtag(props.etag),
    lastModified: props.lastModified ?? new Date(),
    contentType: props.contentType === '' ? undefined : props.contentType,
  };
}

/** `{ abortSignal }` when there is a signal: the SDK's options do not accept an explicit undefined. */
export function signalOption(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}
