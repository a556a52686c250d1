/**
 * The peer-info table: which locators (carrier, address, port) a HIT can be reached at, the way
 * libhipl's `hipl_add_peer_info()` and HIPL's hosts files map HITs to addresses.
 * @module
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { formatHit, isHit, parseHit } from '../crypto/hit.js';
import { HipArgumentError } from '../errors.js';
import type { EspSequenceMode } from '../esp/sa.js';

/** Where a peer can be reached. */
export interface PeerAddress {
  /** Carrier. Default 'udp'. */
  carrier: 'udp' | 'tcp';
  /** IPv4 or IPv6 address text. */
  address: string;
  /** UDP or TCP port. */
  port: number;
}

/** One peer: its HIT, its locators and how to talk to it. */
export interface PeerEntry {
  /** Canonical HIT text. */
  hit: string;
  /** Optional name (hosts files). */
  name?: string;
  /** Where the peer can be reached, in the order added; a BEX goes to the first unless told otherwise. */
  locators: PeerAddress[];
  /** Protocol version to initiate with. Default: the HIT's own version (v1 HITs → 1). */
  version?: 1 | 2;
  /**
   * What the ESP integrity check covers of the sequence number with this peer, if not the
   * host's `espSequenceV1`: `'32bit'` for HIPL's hipd. HIPv1 associations only.
   */
  espSequence?: EspSequenceMode;
}

/**
 * HIT → locators.
 *
 * @example
 * ```ts
 * peers.add('2001:22:f482:7b66:edea:73a8:1796:b6', { address: '127.0.0.1', port: 10500 });
 * ```
 */
export class PeerTable {
  private readonly entries = new Map<string, PeerEntry>();
  private readonly names = new Map<string, string>();

  /** Add a locator for a HIT (merged with earlier ones; duplicates ignored). */
  add(hit: string | Uint8Array, locator: Partial<PeerAddress> & { address: string; port: number }, opts: { version?: 1 | 2; name?: string; espSequence?: EspSequenceMode } = {}): PeerEntry {
    if (opts.espSequence !== undefined && opts.espSequence !== 'esn' && opts.espSequence !== '32bit') {
      throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', `espSequence must be 'esn' or '32bit', got ${String(opts.espSequence)}`);
    }
    const key = canonicalHit(hit);
    if (!isIP(locator.address)) throw new HipArgumentError('ERR_HIP_INVALID_ADDRESS', `not an IP address: ${locator.address}`);
    if (!Number.isInteger(locator.port) || locator.port < 1 || locator.port > 65535) {
      throw new HipArgumentError('ERR_HIP_INVALID_PORT', `not a port: ${locator.port}`);
    }
    const entry = this.entries.get(key) ?? { hit: key, locators: [] };
    const loc: PeerAddress = { carrier: locator.carrier ?? 'udp', address: locator.address, port: locator.port };
    if (!entry.locators.some((l) => l.carrier === loc.carrier && l.address === loc.address && l.port === loc.port)) entry.locators.push(loc);
    if (opts.version !== undefined) entry.version = opts.version;
    if (opts.espSequence !== undefined) entry.espSequence = opts.espSequence;
    if (opts.name !== undefined) {
      entry.name = opts.name;
      this.names.set(opts.name, key);
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** Forget a HIT. Returns whether it was known. */
  remove(hit: string | Uint8Array): boolean {
    return this.entries.delete(canonicalHit(hit));
  }

  /** The entry of a HIT (or of a name from a hosts file). */
  get(hitOrName: string | Uint8Array): PeerEntry | undefined {
    if (typeof hitOrName === 'string' && !isHit(hitOrName)) {
      const hit = this.names.get(hitOrName);
      return hit ? this.entries.get(hit) : undefined;
    }
    return this.entries.get(canonicalHit(hitOrName));
  }

  /** Every entry. */
  list(): PeerEntry[] {
    return [...this.entries.values()];
  }

  /**
   * Read a HIPL hosts file: lines "HIT name" and "IP name" (comments with #). A name that has
   * both a HIT line and an IP line maps the HIT to that IP at `port`/`carrier`, and the name
   * then works wherever a HIT does in {@link get}. Resolves the entries created or updated.
   *
   * @throws Error from node:fs when the file cannot be read.
   */
  async loadHostsFile(path: string, defaults: { port: number; carrier?: 'udp' | 'tcp' }): Promise<PeerEntry[]> {
    return this.addHostsText(await readFile(path, 'utf8'), defaults);
  }

  /** Synchronous {@link loadHostsFile}. */
  loadHostsFileSync(path: string, defaults: { port: number; carrier?: 'udp' | 'tcp' }): PeerEntry[] {
    return this.addHostsText(readFileSync(path, 'utf8'), defaults);
  }

  /** {@link loadHostsFile} from the text of a hosts file. Returns the entries created or updated. */
  addHostsText(text: string, defaults: { port: number; carrier?: 'udp' | 'tcp' }): PeerEntry[] {
    const hitsByName = new Map<string, string>();
    const ipsByName = new Map<string, string[]>();
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const [addr, ...names] = line.split(/\s+/);
      if (!addr || names.length === 0) continue;
      for (const name of names) {
        if (isHit(addr)) hitsByName.set(name, canonicalHit(addr));
        else if (isIP(addr)) ipsByName.set(name, [...(ipsByName.get(name) ?? []), addr]);
      }
    }
    const touched: PeerEntry[] = [];
    for (const [name, hit] of hitsByName) {
      for (const ip of ipsByName.get(name) ?? []) this.add(hit, { address: ip, port: defaults.port, carrier: defaults.carrier ?? 'udp' }, { name });
      const e = this.entries.get(hit);
      if (e) touched.push(e);
    }
    return touched;
  }
}

/** Texts already made canonical: a sender names the same few peers on every send. */
const canonicalTexts = new Map<string, string>();
const CANONICAL_CACHE_LIMIT = 1024;

/** Canonical text of a HIT given as text or bytes; throws `ERR_HIP_INVALID_HIT`. */
export function canonicalHit(hit: string | Uint8Array): string {
  if (typeof hit !== 'string') return formatHit(hit);
  const known = canonicalTexts.get(hit);
  if (known !== undefined) return known;
  const text = formatHit(parseHit(hit));
  // Bounded: a program naming ever new HITs only loses the shortcut.
  if (canonicalTexts.size >= CANONICAL_CACHE_LIMIT) canonicalTexts.clear();
  canonicalTexts.set(hit, text);
  return text;
}
