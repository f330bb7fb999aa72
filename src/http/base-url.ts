import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/load-config.ts';

/** `scheme://host[:port]` clients reach us at: PUBLIC_URL, else the request's Host. */
export function baseUrlOf(req: FastifyRequest, config: Config): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const host = req.headers.host ?? `${config.host}:${config.port}`;
  return `${req.protocol}://${host}`;
}
