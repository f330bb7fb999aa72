import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
const [ak, sk] = process.argv.slice(2);
const c = new S3Client({ endpoint: 'http://127.0.0.1:17480', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ak!, secretAccessKey: sk! }, maxAttempts: 1 });
try { const r = await c.send(new ListObjectsV2Command({ Bucket: 'exp1' })); console.log('OK', r.KeyCount); } catch (e: any) { console.log('ERR', e.name, e.$metadata?.httpStatusCode); }
