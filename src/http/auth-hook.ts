import type { FastifyRequest } from 'fastify';
import type { Principal } from '../services/auth.ts';
import type { Services } from '../services/services.ts';

/** The signed-URL principal: read-only access to one path. */
const SIGNED: Principal = { keyId: -1, name: 'signed URL', role: 'user' };

/**
 * Authenticates a request by its `x-api-key` header or, where allowed (storage
 * and preview GETs opened by browsers), by an expiring signed query.
 */
export async function requirePrincipal(
  req: FastifyRequest,
  services: Services,
  opts: { allowSigned: boolean },
): Promise<Principal> {
  const header = req.headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined && opts.allowSigned) {
    const q = req.query as Record<string, string | undefined>;
    services.signer.verify(pathOf(req.url), q['expires'], q['signature']);
    return SIGNED;
  }
  return services.auth.authenticate(key);
}

/** The decoded path of a URL, without its query. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
