/**
 * The host's side of mobility and NAT mode: what NAT mode changes in the options, which of our
 * addresses an UPDATE announces, noticing that the local address set changed, and recognising
 * send errors that mean "this address is gone". The decisions about the peer's locators stay in
 * the engine (core/paths.ts); this module only feeds it.
 * @module
 */
import { networkInterfaces } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import type { EngineOptions } from '../core/config.js';
import { HIP_NAT_UDP_PORT } from '../transport/index.js';
import { mapIpv4 } from '../wire/index.js';

/**
 * Keepalive interval in NAT mode. RFC 5770 §4.7 says an idle host MUST send one at least every
 * 15 s; HIPL's and the NAT draft's 20 s predate that and lose mappings on NATs with a 15-20 s UDP
 * timeout (common on home routers), so 15 s it is.
 */
export const NAT_KEEPALIVE_MS = 15_000;
/** Liveness probe after this long without hearing the peer, in NAT mode. */
export const NAT_LIVENESS_MS = 30_000;
/** How often NAT mode looks at the local address set. */
export const ADDRESS_WATCH_MS = 2000;
/** Most addresses put in one LOCATOR_SET. */
const MAX_ANNOUNCED = 8;

/** NAT mode settings (`natMode: true` takes every default). */
export interface NatModeOptions {
  /** Keepalive interval on an idle path, ms (0 = none). Default 15000 (RFC 5770 §4.7). */
  keepaliveMs?: number;
  /** Probe a path silent for this long and report it dead if unanswered, ms (0 = off). Default 30000. */
  livenessMs?: number;
  /** Poll the local address set this often and announce changes to every peer, ms (0 = off). Default 2000. */
  watchAddressesMs?: number;
}

/** NAT mode resolved: what the engine and the UDP carrier get. */
export interface ResolvedNatMode {
  /** Engine options with NAT mode applied (caller's explicit values win). */
  engine: EngineOptions;
  /** Default UDP port when the caller gave none. */
  udpPort: number | undefined;
  /** Address watch interval, 0 = off. */
  watchAddressesMs: number;
}

/** Apply `natMode` to the engine options and the UDP port default. */
export function resolveNatMode(natMode: boolean | NatModeOptions | undefined, engine: EngineOptions = {}): ResolvedNatMode {
  if (!natMode) return { engine, udpPort: undefined, watchAddressesMs: 0 };
  const o = natMode === true ? {} : natMode;
  return {
    engine: {
      ...engine,
      natMode: engine.natMode ?? true,
      keepaliveMs: engine.keepaliveMs ?? o.keepaliveMs ?? NAT_KEEPALIVE_MS,
      livenessMs: engine.livenessMs ?? o.livenessMs ?? NAT_LIVENESS_MS,
    },
    udpPort: HIP_NAT_UDP_PORT,
    watchAddressesMs: o.watchAddressesMs ?? ADDRESS_WATCH_MS,
  };
}

/**
 * The addresses to announce in a LOCATOR_SET, as 16-byte HIP addresses (IPv4 mapped): the given
 * ones, else the bound address if it is a specific one, else every external interface address of
 * the bound family (internal ones only when there is nothing else, as on a loopback-only host).
 */
export function announceAddresses(given: readonly string[] | undefined, bound: string | undefined, family: 4 | 6): Uint8Array[] {
  const texts = given && given.length > 0 ? [...given] : bound && bound !== '0.0.0.0' && bound !== '::' ? [bound] : localAddresses(family);
  return texts.slice(0, MAX_ANNOUNCED).map(addressBytes);
}

function localAddresses(family: 4 | 6): string[] {
  const external: string[] = [];
  const internal: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if ((family === 4 && i.family !== 'IPv4') || (family === 6 && i.family !== 'IPv6')) continue;
      if (i.address.startsWith('fe80:')) continue;
      (i.internal ? internal : external).push(i.address);
    }
  }
  return external.length > 0 ? external : internal;
}

/** 16-byte HIP address of an IPv4 or IPv6 address text. */
function addressBytes(text: string): Uint8Array {
  if (isIPv4(text)) return mapIpv4(new Uint8Array(text.split('.').map(Number)));
  if (!isIPv6(text)) return new Uint8Array(16);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g: string, i: number) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** A fingerprint of the local address set, to notice when it changes. */
export function addressSetKey(): string {
  return Object.values(networkInterfaces())
    .flatMap((l) => (l ?? []).map((i) => i.address))
    .sort()
    .join(',');
}

/**
 * Polls the local address set and calls `onChange` when it differs from the last look. Its timer
 * never keeps the process alive.
 */
export class AddressWatcher {
  private last = addressSetKey();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number, onChange: () => void) {
    this.timer = setInterval(() => {
      const now = addressSetKey();
      if (now === this.last) return;
      this.last = now;
      onChange();
    }, intervalMs);
    this.timer.unref();
  }

  /** Stop watching. */
  stop(): void {
    clearInterval(this.timer);
  }
}

/** OS errors of a send that mean our address or route is gone (the host moved, or lost its link). */
const ADDRESS_GONE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN']);

/** Whether a carrier error is a send that failed because the path is gone (with the peer it names). */
export function unreachableDestination(err: unknown): { address: string; port: number } | undefined {
  const d = (err as { details?: Record<string, unknown> } | undefined)?.details;
  if (!d || typeof d['osCode'] !== 'string' || !ADDRESS_GONE.has(d['osCode'])) return undefined;
  if (typeof d['address'] !== 'string' || typeof d['port'] !== 'number') return undefined;
  return { address: d['address'], port: d['port'] };
}
