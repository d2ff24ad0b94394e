/**
 * Where the dashboard may listen and which origins it answers: the checks that run before the server starts.
 *
 * - `HOST` defaults to 127.0.0.1. Set but empty, or not an IP address or host name, it is refused (an empty
 *   host would otherwise listen on every interface).
 * - Listening beyond loopback (`0.0.0.0`, `::`, a LAN address, a name) requires `KAPKIT_PUBLIC_ORIGIN`, the
 *   `https://` origin users reach the dashboard by (through a TLS-terminating proxy). Without it the server
 *   refuses to start: a clinic's patient data is not served in clear text on a network.
 * - The Host allow-list (DNS rebinding) and the Origin check of writes (CSRF) compare with the configured
 *   origin, never with the Host the request itself claims.
 */
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** The network settings the server runs with. */
export interface NetworkPlan {
  /** Interface to bind. */
  readonly host: string;
  /** True when `host` is a loopback address or `localhost`. */
  readonly loopback: boolean;
  /** `KAPKIT_PUBLIC_ORIGIN` (`https://dashboard.clinic.example`), or null on loopback without it. */
  readonly publicOrigin: string | null;
}

/** A configuration the server refuses to start with; the message says what to set. */
export class NetworkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkConfigError';
  }
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Check `PUBLIC_ORIGIN`: an `https://` origin (scheme, host, optional port; no path, query or credentials).
 * @returns the normalised origin (`https://dashboard.clinic.example`).
 */
function parsePublicOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new NetworkConfigError(
      `KAPKIT_PUBLIC_ORIGIN must be an https:// origin such as https://kap.clinic.example, got "${value}".`,
    );
  }
  if (url.protocol !== 'https:') {
    throw new NetworkConfigError(
      `KAPKIT_PUBLIC_ORIGIN must start with https:// (the dashboard carries patient data: put it behind TLS), got "${value}".`,
    );
  }
  if (
    url.username ||
    url.password ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash
  ) {
    throw new NetworkConfigError(
      `KAPKIT_PUBLIC_ORIGIN must be an origin only (scheme, host and optional port), got "${value}".`,
    );
  }
  return url.origin;
}

/**
 * Decide where to listen from the `host` option or `HOST`, and `KAPKIT_PUBLIC_ORIGIN`.
 *
 * @example
 * ```ts
 * planNetwork({ host: undefined, env: {} }); // { host: '127.0.0.1', loopback: true, publicOrigin: null }
 * planNetwork({ env: { HOST: '0.0.0.0' } }); // throws NetworkConfigError: KAPKIT_PUBLIC_ORIGIN is required
 * ```
 */
export function planNetwork(input: {
  readonly host?: string;
  readonly publicOrigin?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}): NetworkPlan {
  const raw = input.host ?? input.env.HOST;
  if (raw !== undefined && raw.trim() === '') {
    throw new NetworkConfigError(
      'HOST is set but empty. Unset it to listen on 127.0.0.1 (this machine only), or set it to an interface address.',
    );
  }
  const host = raw === undefined ? '127.0.0.1' : raw.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw new NetworkConfigError(
      `HOST must be an IP address or a host name (such as 127.0.0.1, ::1 or 0.0.0.0), got "${raw}".`,
    );
  }
  const originValue = input.publicOrigin ?? input.env.KAPKIT_PUBLIC_ORIGIN;
  const publicOrigin =
    originValue !== undefined && originValue.trim() !== '' ? parsePublicOrigin(originValue.trim()) : null;
  const loopback = isLoopback(host);
  if (!loopback && publicOrigin === null) {
    throw new NetworkConfigError(
      `HOST=${host} listens beyond this machine: set KAPKIT_PUBLIC_ORIGIN to the https:// address users reach the dashboard by (behind a TLS proxy; see docs/security.md), or leave HOST unset to listen on 127.0.0.1.`,
    );
  }
  return { host, loopback, publicOrigin };
}

/**
 * The `Host` values and the origins the server accepts once it listens on `port`: the public origin's host
 * when one is configured (and any `extraHosts`), else the loopback names on that port.
 */
export function acceptedNames(
  plan: NetworkPlan,
  port: number,
  extraHosts: readonly string[] = [],
): { hosts: string[]; origins: string[] } {
  if (plan.publicOrigin) {
    const host = new URL(plan.publicOrigin).host;
    return {
      hosts: [host, ...extraHosts],
      origins: [plan.publicOrigin, ...extraHosts.map((h) => `https://${h}`)],
    };
  }
  const shown = plan.host.includes(':') ? `[${plan.host}]` : plan.host;
  const hosts = [
    ...new Set([
      `${shown}:${port}`,
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      ...extraHosts,
    ]),
  ];
  return { hosts, origins: hosts.map((h) => `http://${h}`) };
}

/**
 * An `Origin` header names one of the configured origins (`null`, from sandboxed or file pages, does not).
 * Without a configuration, only plain-http loopback origins are accepted. The request's Host is not consulted.
 */
export function acceptedOrigin(origin: string, allowed: readonly string[] | undefined): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (allowed) return allowed.includes(url.origin);
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * The TCP peer's address for a per-address throttle, or null when it says nothing: a loopback peer is this
 * machine or the TLS proxy in front (every user or patient would share it, and one attacker could lock everyone
 * out), so the proxy rate-limits there (docs/security.md) and the per-account lockout still applies.
 */
export function peerAddress(c: Context): string | null {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    return null;
  }
  if (!address) return null;
  const plain = address.replace(/^::ffff:/, '');
  return isLoopback(plain) ? null : plain;
}
