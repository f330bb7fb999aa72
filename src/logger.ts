import { pino, type Logger, type DestinationStream } from 'pino';

/** Header and field paths whose values never reach the logs. */
export const REDACT_PATHS = [
  'req.headers["x-api-key"]', 'req.headers.authorization', 'req.headers.cookie',
  '*.secretKey', '*.secret_key', '*.accessKey', '*.access_key', '*.password', '*.token', '*.key_pem',
  '*.private_key', '*.privateKey', '*.sessionToken', '*.secretAccessKey',
];

/** The service's pino logger, with secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'stowage' }, redact: { paths: REDACT_PATHS, censor: '[hidden]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
