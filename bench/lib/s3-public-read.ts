/**
 * Opens a bucket for anonymous reads (s3:GetObject for everyone, by bucket
 * policy), so a plain caching proxy can stand in front of it as a CDN would:
 * nginx cannot sign S3 requests.
 */
import { PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';

export interface S3BucketAccess {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

/** Lets anyone GET objects (not list or write) of the bucket; fails unless an unsigned GET of `probeKey` then answers 200. */
export async function allowAnonymousReads(o: S3BucketAccess, probeKey: string): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: o.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey },
  });
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${o.bucket}/*`] }],
  };
  try {
    await client.send(new PutBucketPolicyCommand({ Bucket: o.bucket, Policy: JSON.stringify(policy) }));
  } finally {
    client.destroy();
  }
  const url = `${o.endpoint}/${o.bucket}/${probeKey}`;
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`unsigned GET ${url} answered ${res.status} after the public-read bucket policy`);
}
