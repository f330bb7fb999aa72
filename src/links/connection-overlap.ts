import type { ConnectionSettings } from './connection-schema.ts';

/** A bucket a connection lists that an earlier connection of the same provider already serves. */
export interface BucketOverlap {
  /** The later connection. */
  name: string;
  /** Index in its `buckets`. */
  index: number;
  /** The earlier connection serving the bucket. */
  other: string;
  message: string;
}

/**
 * Buckets served twice for one provider. A link names only a scheme and a
 * bucket, so two connections serving the same bucket would make it ambiguous
 * which credentials a link uses: the later one is reported.
 */
export function bucketOverlaps(connections: ReadonlyArray<{ name: string; settings: Pick<ConnectionSettings, 'provider' | 'buckets'> }>): BucketOverlap[] {
  const owner = new Map<string, string>();
  const out: BucketOverlap[] = [];
  for (const c of connections) {
    c.settings.buckets.forEach((bucket, index) => {
      const id = `${c.settings.provider}\u0000${bucket}`;
      const other = owner.get(id);
      if (other !== undefined && other !== c.name) {
        out.push({ name: c.name, index, other, message: `bucket "${bucket}" (provider ${c.settings.provider}) is already served by connection "${other}"` });
      } else {
        owner.set(id, c.name);
      }
    });
  }
  return out;
}
