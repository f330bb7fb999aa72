/**
 * Classification of IP addresses for the SSRF guard: which addresses a public
 * link may make Stowage connect to. Only globally routable unicast addresses
 * are "public"; IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4,
 * IPv4-compatible) are judged by the embedded address, because the packets
 * end up there.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is (or is not) acceptable; every value but `public` is refused. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'unspecified'
  | 'carrier-grade NAT'
  | 'benchmarking'
  | 'documentation'
  | 'broadcast'
  | 'reserved'
  | 'invalid';

type Rule = readonly [prefix: bigint, bits: number, cls: AddressClass | Embedded];
/** IPv6 ranges whose last 32 bits (or bits 16..47 for 6to4) are an IPv4 address. */
type Embedded = 'mapped' | 'nat64' | '6to4' | 'compatible';

// First match wins, so narrower ranges come before the ranges containing them.
const V4_RULES: readonly Rule[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'carrier-grade NAT'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'), // includes the cloud metadata address 169.254.169.254
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('255.255.255.255/32', 'broadcast'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

const V6_RULES: readonly Rule[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::ffff:0:0/96', 'mapped'),
  v6('::/96', 'compatible'),
  v6('64:ff9b::/96', 'nat64'),
  v6('64:ff9b:1::/48', 'private'), // local-use NAT64
  v6('100::/64', 'reserved'), // discard-only
  v6('2001:db8::/32', 'documentation'),
  v6('2001::/23', 'reserved'), // IETF protocol assignments, incl. Teredo (embeds an obfuscated IPv4)
  v6('2002::/16', '6to4'),
  v6('3fff::/20', 'documentation'),
  v6('fc00::/7', 'private'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'private'), // deprecated site-local
  v6('ff00::/8', 'multicast'),
  // Only 2000::/3 is allocated as global unicast; everything else is refused.
  v6('2000::/3', 'public'),
  v6('::/0', 'reserved'),
];

/** True when `ip` (IPv4 or IPv6 text, optionally `[bracketed]`) is a globally routable unicast address. */
export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === 'public';
}

/** The class of an IP address; `invalid` when `ip` is not an IP address at all. */
export function classifyAddress(ip: string): AddressClass {
  const text = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(text)) return classifyV4(v4Value(text));
  const value = v6Value(text);
  return value === undefined ? 'invalid' : classifyV6(value);
}

function classifyV4(value: bigint): AddressClass {
  const rule = V4_RULES.find(([prefix, bits]) => matches(value, 32, prefix, bits));
  const cls = rule?.[2] ?? 'public';
  return isEmbedded(cls) ? 'invalid' : cls;
}

function classifyV6(value: bigint): AddressClass {
  const rule = V6_RULES.find(([prefix, bits]) => matches(value, 128, prefix, bits));
  const cls = rule?.[2] ?? 'reserved';
  if (!isEmbedded(cls)) return cls;
  const shift = cls === '6to4' ? 80n : 0n;
  const inner = classifyV4((value >> shift) & 0xffff_ffffn);
  // The IPv4-compatible form is deprecated: refuse it even around a public address.
  return cls === 'compatible' && inner === 'public' ? 'reserved' : inner;
}

function isEmbedded(cls: AddressClass | Embedded): cls is Embedded {
  return cls === 'mapped' || cls === 'nat64' || cls === '6to4' || cls === 'compatible';
}

function matches(value: bigint, width: number, prefix: bigint, bits: number): boolean {
  const shift = BigInt(width - bits);
  return value >> shift === prefix >> shift;
}

function v4Value(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** 128-bit value of IPv6 text (with `::` and an optional dotted IPv4 tail); undefined when invalid. */
function v6Value(text: string): bigint | undefined {
  if (!isIPv6(text)) return undefined;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  let hex = text;
  if (dotted !== undefined) {
    const v = v4Value(dotted);
    hex = `${text.slice(0, -dotted.length)}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = hex.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function v4(cidr: string, cls: AddressClass): Rule {
  const [ip = '', bits = ''] = cidr.split('/');
  return [v4Value(ip), Number(bits), cls];
}

function v6(cidr: string, cls: AddressClass | Embedded): Rule {
  const [ip = '', bits = ''] = cidr.split('/');
  const value = v6Value(ip);
  if (value === undefined) throw new Error(`bad IPv6 rule ${cidr}`);
  return [value, Number(bits), cls];
}
