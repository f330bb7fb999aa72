import {
  envFieldName, ROLESANYWHERE_FIELDS, rolesAnywhereProblems, type RolesAnywhereField, type RolesAnywhereInput,
} from '../rolesanywhere/settings.ts';
import type { Settings } from './schema.ts';

type RolesAnywhereVariable = `STORAGE_ROLESANYWHERE_${Uppercase<RolesAnywhereField>}`;

/**
 * IAM Roles Anywhere settings of the primary storage: the `STORAGE_ROLESANYWHERE_*`
 * values that are set, by field; undefined when none is.
 */
export function rolesAnywhereSettingsOf(s: Settings): RolesAnywhereInput | undefined {
  const out: Record<string, string | number> = {};
  for (const field of ROLESANYWHERE_FIELDS) {
    const value = s[envFieldName(field) as RolesAnywhereVariable];
    if (value !== undefined) out[field] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function s3CredentialProblems(s: Settings, problems: string[]): void {
  const rolesAnywhere = rolesAnywhereSettingsOf(s);
  const hasKeys = s.STORAGE_ACCESS_KEY !== undefined || s.STORAGE_SECRET_KEY !== undefined;
  if (rolesAnywhere !== undefined) {
    if (hasKeys || s.STORAGE_IAM_ROLE !== undefined) {
      problems.push('STORAGE_ROLESANYWHERE_* cannot be combined with STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY or STORAGE_IAM_ROLE: set one kind of credentials');
    }
    for (const p of rolesAnywhereProblems(rolesAnywhere)) problems.push(`${envFieldName(p.field)}: ${p.message}`);
  } else if (s.STORAGE_IAM_ROLE === undefined && (s.STORAGE_ACCESS_KEY === undefined || s.STORAGE_SECRET_KEY === undefined)) {
    problems.push('STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY (or STORAGE_IAM_ROLE) are required when STORAGE_PROVIDER=minio, unless IAM Roles Anywhere is set (STORAGE_ROLESANYWHERE_*)');
  }
}

function onlyForS3(s: Settings, problems: string[]): void {
  if (s.STORAGE_IAM_ROLE !== undefined) problems.push('STORAGE_IAM_ROLE is only supported for AWS S3 (STORAGE_PROVIDER=minio)');
  if (rolesAnywhereSettingsOf(s) !== undefined) problems.push('STORAGE_ROLESANYWHERE_* (IAM Roles Anywhere) is only supported for S3 (STORAGE_PROVIDER=minio)');
}

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
      s3CredentialProblems(s, problems);
      break;
    case 'azure':
      need('STORAGE_ENDPOINT', 'the account URL, e.g. https://<account>.blob.core.windows.net');
      need('STORAGE_ACCESS_KEY', 'the storage account name');
      need('STORAGE_SECRET_KEY', 'the account key or a SAS token (?sv=…)');
      onlyForS3(s, problems);
      break;
    case 'google':
      need('STORAGE_CREDENTIALS_PATH', 'the service-account JSON file');
      onlyForS3(s, problems);
      break;
    case 'http':
      break;
  }
  return problems;
}
