/**
 * The SSRF guard of public links: a link's host may only make Stowage connect
 * to public addresses, unless an operator allow-listed the host
 * (`LINKS_ALLOW_HOSTS`). The guard resolves the name once, checks every
 * address, and hands back the one address the caller must connect to (see
 * {@link pinnedLookup}), so a second DNS answer cannot point elsewhere.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { StorageError } from '../storage/errors.ts';
import { classifyAddress } from './ssrf-address.ts';

export { classifyAddress, isPublicAddress, type AddressClass } from './ssrf-address.ts';

/** Provider name the public-link store and its guard report in errors. */
export const PUBLIC_PROVIDER = 'public';

/** One address a name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses (default: `dns.lookup` with `all: true`). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** Options of {@link checkHost}. */
export interface HostCheckOptions {
  /** Hosts (lower-case names or IP literals) allowed to resolve to non-public addresses. */
  allowHosts: readonly string[];
  resolver?: Resolver | undefined;
}

/** A host the guard approved and the address to connect to. */
export interface ApprovedHost {
  /** The host name as checked (lower-case, no brackets, no trailing dot). */
  host: string;
  address: string;
  family: 4 | 6;
}

/** The system resolver, keeping the order getaddrinfo returned. */
export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, order: 'verbatim' });

/**
 * Resolves `host` (IP literals are not looked up) and refuses it with a
 * `PermissionDenied` {@link StorageError} when ANY address is not public and
 * the host is not allow-listed; DNS failures are `Unavailable`.
 */
export async function checkHost(host: string, options: HostCheckOptions): Promise<ApprovedHost> {
  const name = normalizeHost(host);
  const addresses = await resolveAll(name, options.resolver ?? systemResolver);
  const allowed = options.allowHosts.some((h) => normalizeHost(h) === name);
  if (!allowed) {
    for (const { address } of addresses) {
      const cls = classifyAddress(address);
      if (cls === 'public') continue;
      const which = isIP(name) === 0 ? ` (${address})` : '';
      const what = `resolves to ${article(cls)} ${cls} address${which}`;
      throw new StorageError('PermissionDenied', `link host ${name} ${what}; allow it with LINKS_ALLOW_HOSTS`, {
        provider: PUBLIC_PROVIDER,
      });
    }
  }
  const [first] = addresses as [ResolvedAddress];
  return { host: name, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 };
}

/**
 * A `lookup` for `http.request` that answers with the approved address only,
 * so the connection goes where the guard looked (no DNS rebinding). Any other
 * host name fails, in case the request is redirected internally.
 */
export function pinnedLookup(approved: ApprovedHost): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    if (normalizeHost(hostname) !== approved.host) {
      const err: NodeJS.ErrnoException = new Error(`lookup of ${hostname} was not approved by the link guard`);
      err.code = 'ENOTFOUND';
      callback(err, '', 0);
      return;
    }
    const answer: LookupAddress = { address: approved.address, family: approved.family };
    if (options.all === true) callback(null, [answer]);
    else callback(null, answer.address, answer.family);
  };
}

/** Lower-case host without IPv6 brackets or a trailing dot, as compared with the allow-list. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

async function resolveAll(name: string, resolver: Resolver): Promise<ResolvedAddress[]> {
  const family = isIP(name);
  if (family !== 0) return [{ address: name, family }];
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolver(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new StorageError('Unavailable', `link host ${name} cannot be resolved (${code})`, { provider: PUBLIC_PROVIDER, cause: err });
  }
  if (addresses.length === 0) {
    throw new StorageError('Unavailable', `link host ${name} resolves to no address`, { provider: PUBLIC_PROVIDER });
  }
  return addresses;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}
