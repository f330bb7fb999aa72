import type { Settings } from './schema.ts';

/**
 * Checks the settings a cloud provider needs together (the schema checks each
 * value alone). Returns one line per problem, naming the settings to fix.
 */
export function providerProblems(s: Settings): string[] {
  const problems: string[] = [];
  const need = (name: keyof Settings, why: string) => {
    if (s[name] === undefined) problems.push(`${name} is required when STORAGE_PROVIDER=${s.STORAGE_PROVIDER}: ${why}`);
  };
  switch (s.STORAGE_PROVIDER) {
    case 'minio':
      need('STORAGE_ENDPOINT', 'the S3 endpoint, e.g. s3.amazonaws.com or http://127.0.0.1:9000');
      if (s.STORAGE_IAM_ROLE === undefined && (s.STORAGE_ACCESS_KEY === undefined || s.STORAGE_SECRET_KEY === undefined)) {
        problems.push('STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY (or STORAGE_IAM_ROLE) are required when STORAGE_PROVIDER=minio');
      }
      break;
    case 'azure':
      need('STORAGE_ENDPOINT', 'the account URL, e.g. https://<account>.blob.core.windows.net');
      need('STORAGE_ACCESS_KEY', 'the storage account name');
      need('STORAGE_SECRET_KEY', 'the account key or a SAS token (?sv=…)');
      if (s.STORAGE_IAM_ROLE !== undefined) problems.push('STORAGE_IAM_ROLE is only supported for AWS S3 (STORAGE_PROVIDER=minio)');
      break;
    case 'google':
      need('STORAGE_CREDENTIALS_PATH', 'the service-account JSON file');
      if (s.STORAGE_IAM_ROLE !== undefined) problems.push('STORAGE_IAM_ROLE is only supported for AWS S3 (STORAGE_PROVIDER=minio)');
      break;
    case 'http':
      break;
  }
  return problems;
}
