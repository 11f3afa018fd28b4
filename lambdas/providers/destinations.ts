/**
 * Where the transport may connect. A provider can point a download anywhere (a redirect, a
 * signed storage URL), and a name can resolve anywhere, so every connection is checked on the
 * address it will actually use:
 * - the configured endpoint (the `baseUrl`'s host and port) is always allowed, whatever it
 *   resolves to: the operator chose it (a local simulator on 127.0.0.1, a private Restcomm);
 * - hosts in the account's `allowedDownloadHosts` are allowed likewise;
 * - any other host only if every address it resolves to is public. Private, loopback,
 *   link-local (cloud metadata at 169.254.169.254 included), unique-local, CGNAT, multicast and
 *   reserved addresses are refused. So is the configured host on another port: "foreign" means
 *   any host:port other than the configured one, loopback included.
 * The check runs inside the connection itself and the socket is opened to the address checked,
 * so a name cannot resolve to a public address for the check and a private one for the connect.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';
import { ForbiddenAddressError } from '../core/errors.ts';

/** Resolves a host name to every address it has. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Addresses that are not on the public internet (RFC 6890 and friends). */
const notPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT; Alibaba's metadata service is 100.100.100.200
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local: EC2/GCP/Azure metadata at 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  notPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  // IPv4-compatible (deprecated, RFC 4291): ::a9fe:a9fe is 169.254.169.254 to a stack that
  // still routes it, and nothing public uses the form. `::` and `::1` are in it too.
  ['::', 96],
  ['::ffff:0:0:0', 96], // SIIT's IPv4-translated form (RFC 6145), likewise
  ['64:ff9b::', 96], // NAT64: reaches whatever IPv4 address it embeds
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): likewise
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4: likewise
  ['fc00::', 7], // unique-local: EC2's IPv6 metadata at fd00:ec2::254
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  notPublic.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address is on the public internet. IPv4-mapped IPv6 is judged as its IPv4. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return !notPublic.check(mapped, 'ipv4');
  return !notPublic.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface DestinationPolicyOptions {
  /** The configured `baseUrl`. */
  baseUrl: URL;
  /** `accounts[].allowedDownloadHosts`: `host`, `host:port` or `*.domain` (any port without one). */
  allowedHosts?: readonly string[];
  resolve?: Resolver;
}

export class DestinationPolicy {
  private readonly ownHost: string;
  private readonly ownPort: string;
  private readonly allowed: Array<{ host: string; wildcard: boolean; port?: string }>;
  private readonly resolve: Resolver;

  constructor(options: DestinationPolicyOptions) {
    this.ownHost = normalizeHost(options.baseUrl.hostname);
    this.ownPort = portOf(options.baseUrl.protocol, options.baseUrl.port);
    this.resolve = options.resolve ?? systemResolver;
    this.allowed = (options.allowedHosts ?? []).map((pattern) => {
      const match = /^(\*\.)?(.+?)(?::(\d+))?$/.exec(pattern.toLowerCase());
      return { wildcard: Boolean(match?.[1]), host: match?.[2] ?? pattern, port: match?.[3] };
    });
  }

  /** Whether host:port is the configured endpoint or an allowed download host. */
  isTrusted(hostname: string, port: string): boolean {
    const host = normalizeHost(hostname);
    if (host === this.ownHost && port === this.ownPort) return true;
    return this.allowed.some(
      (entry) =>
        (entry.port === undefined || entry.port === port) &&
        (entry.wildcard ? host.endsWith(`.${entry.host}`) : host === entry.host),
    );
  }

  /**
   * The address to connect to for host:port, or undefined to let the system resolve a trusted
   * name as usual. Throws ForbiddenAddressError for a destination that is not allowed.
   */
  async addressFor(hostname: string, port: string): Promise<string | undefined> {
    if (this.isTrusted(hostname, port)) return undefined;
    const host = normalizeHost(hostname);
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const addresses = isIP(host) ? [host] : await this.lookup(host, where);
    const refused = addresses.find((address) => !isPublicAddress(address));
    if (refused !== undefined || addresses.length === 0) {
      const resolved = isIP(host) ? '' : ` (resolves to ${refused ?? 'nothing'})`;
      throw new ForbiddenAddressError(
        `refused to connect to ${where}${resolved}: not a public address, and neither the configured host nor in the account's allowedDownloadHosts`,
      );
    }
    return addresses[0];
  }

  private async lookup(host: string, where: string): Promise<string[]> {
    try {
      return (await this.resolve(host)).map((entry) => entry.address);
    } catch (error) {
      // Not a refusal: the name may resolve on the next attempt.
      throw Object.assign(new Error(`cannot resolve ${where}: ${(error as Error).message}`), {
        code: (error as NodeJS.ErrnoException).code,
      });
    }
  }
}

/**
 * An undici connector that asks the policy before every new connection and connects to the
 * address it checked (TLS still verifies the certificate against the host name).
 */
export function guardedConnector(policy: DestinationPolicy): buildConnector.connector {
  const connect = buildConnector({});
  return (options, callback) => {
    const port = portOf(options.protocol, options.port);
    policy.addressFor(options.hostname, port).then(
      (address) => {
        if (address === undefined) {
          connect(options, callback);
          return;
        }
        const servername = options.servername ?? (isIP(options.hostname) ? undefined : options.hostname);
        connect({ ...options, hostname: address, servername }, callback);
      },
      (error: Error) => callback(error, null),
    );
  };
}

function normalizeHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function portOf(protocol: string, port: string | number | undefined): string {
  if (port !== undefined && port !== '') return String(port);
  return protocol === 'https:' ? '443' : '80';
}
