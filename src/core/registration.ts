/**
 * The registration extension (RFC 8003) and the rendezvous service (RFC 8004) inside the engine.
 *
 * Registrar side: REG_INFO in our R1s, REG_REQUEST read from I2s, REG_RESPONSE / REG_FAILED /
 * REG_FROM put in our R2s, grants kept per client with an expiry; as a rendezvous server, an I1
 * for a registered client's HIT is forwarded to it with FROM and RVS_HMAC.
 * Requester side: REG_REQUEST in our I2 (clamped to the registrar's REG_INFO), the answer read
 * from the R2; as a registered responder, an I1 relayed by our server is checked (RVS_HMAC with
 * the keys of our association with the server) and answered directly with VIA_RVS.
 *
 * The BEX handlers call the small hooks below; all state lives here, in one {@link Registry}.
 *
 * Over UDP, FROM holds only an address, and a responder that finds only FROM answers to port
 * 10500. When the initiator's port is not 10500 (behind a NAT) our rendezvous server therefore
 * also puts its address and port in a RELAY_FROM (the RFC 5770 transport-address layout), before
 * FROM, under the same RVS_HMAC; a responder that finds one answers to that address and port.
 * From port 10500 FROM alone says it all, and that is the form HIPL's hipd sends and expects:
 * hipd takes an I1 with RELAY_FROM for one from a full relay and sends its R1 back through the
 * server, which a rendezvous server does not carry (issue 13, hipd-v1-rvs.pcap).
 * @module
 */
import { bytesEqual, hexToBytes } from '../bytes.js';
import { formatHit, parseHit } from '../crypto/hit.js';
import {
  authenticatedBytes,
  emitPacket,
  emitParam,
  getParam,
  getParams,
  mapIpv4,
  ParamType,
  RegType,
  type HipPacket,
  type HipParam,
} from '../wire/index.js';
import { HipState, type Association } from './association.js';
import { hitKey, type EngineContext } from './context.js';
import type { PeerLocator } from './events.js';
import type { RelayLimits } from './relay.js';

/** The HIP-over-UDP port (RFC 5770), assumed for an initiator whose FROM came without a port. */
const HIP_UDP_PORT = 10500;

/** RFC 8003 failure types we send. */
export const RegFailure = Object.freeze({
  /** The registrar wants credentials we do not have: our HIT is not on its whitelist. */
  CREDENTIALS_REQUIRED: 0,
  /** The registrar does not offer this registration type. */
  TYPE_UNAVAILABLE: 1,
  /** The registrar has no room for another client. */
  INSUFFICIENT_RESOURCES: 2,
} as const);

/** Seconds of an encoded RFC 8003 lifetime: 0 → 0 (cancel), else 2^((value − 64) / 8). */
export function lifetimeSeconds(value: number): number {
  return value === 0 ? 0 : 2 ** ((value - 64) / 8);
}

/**
 * The encoded RFC 8003 lifetime for `seconds` (0 → 0, cancel). `round` picks the direction:
 * 'up' never gives less than asked, 'down' never more (used for the registrar's bounds).
 */
export function encodeLifetime(seconds: number, round: 'up' | 'down' | 'nearest' = 'nearest'): number {
  if (!(seconds > 0)) return 0;
  const exact = 64 + 8 * Math.log2(seconds);
  const v = round === 'up' ? Math.ceil(exact - 1e-9) : round === 'down' ? Math.floor(exact + 1e-9) : Math.round(exact);
  return Math.min(255, Math.max(1, v));
}

/** What a registrar offers (engine option `registrar`). */
export interface RegistrarOptions {
  /** Registration types offered in REG_INFO ({@link RegType}; 1 = rendezvous). */
  types: number[];
  /** Shortest lifetime granted, in seconds. Default 10. */
  minLifetimeS?: number;
  /** Longest lifetime granted, in seconds. Default 3600. */
  maxLifetimeS?: number;
  /**
   * Who may register: a list of HITs (text), or a function. Default: nobody (a registrar with no
   * whitelist would be an open relay). Others get REG_FAILED type 0 (credentials required).
   */
  allow?: readonly string[] | ((hit: string, type: number) => boolean);
  /** I1s forwarded per second to one client (token bucket, burst of the same size). Default 20. */
  forwardPerSecond?: number;
  /** Clients registered at the same time. Default 1024. */
  maxClients?: number;
  /** Per-client limits of the relay service (types 2 RELAY_UDP_HIP, 3 RELAY_UDP_ESP). */
  relay?: RelayLimits;
}

/** A registration type a registrar refused, and why. */
export interface RegFailureEntry {
  /** The registration type ({@link RegType}). */
  type: number;
  /** RFC 8003 failure type ({@link RegFailure}). */
  failureType: number;
}

/** A transport address in wire form (REG_FROM, FROM, RELAY_FROM). */
export interface WireTransportAddress {
  /** 16 bytes: IPv6, or IPv4-mapped. */
  address: Uint8Array;
  /** Transport port. */
  port: number;
}

/** The transport address behind a locator. */
export interface LocatorAddress extends WireTransportAddress {
  /** 17 UDP, 6 TCP, 0 plain IP. */
  protocol: number;
}

/** A registration the requester asks for in its I2. */
export interface RegistrationRequest {
  /** Registration types ({@link RegType}). */
  types: number[];
  /** Wanted lifetime in seconds (0 cancels). */
  lifetimeS: number;
}

/** A live registration, as either side sees it. */
export interface RegistrationInfo {
  /** The other side's HIT (client for a registrar, server for a requester). */
  peerHit: Uint8Array;
  /** Registration types granted. */
  types: number[];
  /** Granted lifetime in seconds. */
  lifetimeS: number;
  /** Engine time at which it ends. */
  expiresAt: number;
}

/** The outcome of one registration exchange, reported as an engine `registration` event. */
export interface RegistrationOutcome {
  /** Which side we were. */
  role: 'registrar' | 'requester';
  /** The other side's HIT. */
  peerHit: Uint8Array;
  /** Types granted (empty when none). */
  granted: number[];
  /** Granted lifetime in seconds (0: cancelled, or nothing granted). */
  lifetimeS: number;
  /** Types refused, with the RFC 8003 failure type. */
  failed: RegFailureEntry[];
  /** Requester: our transport address as the registrar saw it (REG_FROM), if it said. */
  reflexive?: WireTransportAddress;
  /** Requester: why no answer came at all (e.g. the registration UPDATE was never acknowledged). */
  error?: string;
}

/** Counters of the registrar and rendezvous service. */
export interface RegistryStats {
  /** Registrations granted (renewals included). */
  granted: number;
  /** Registration types refused. */
  refused: number;
  /** Registrations cancelled by their client (lifetime 0). */
  cancelled: number;
  /** I1s forwarded to registered clients. */
  forwarded: number;
  /** I1s for a registered client dropped by its rate limit. */
  rateLimited: number;
  /** I1s for a HIT that is not ours and not a registered client. */
  notRegistered: number;
  /** Relayed I1s answered directly (we are the registered responder). */
  answeredViaRvs: number;
}

/**
 * Transport details the engine cannot see in its opaque locators, supplied by the driver: the
 * address behind a locator, and a UDP locator for an address learned from a packet.
 */
export interface LocatorCodec<L extends PeerLocator> {
  /** The locator's transport address, and its protocol (17 UDP, 6 TCP, 0 plain IP). */
  addressOf(l: L): LocatorAddress | undefined;
  /** A UDP locator for a 16-byte address and a port, or undefined if the driver cannot reach it. */
  udpLocator(address: Uint8Array, port: number): L | undefined;
}

/** Where a relayed I1 really came from, and through which server. @internal */
export interface RelayedOrigin<L extends PeerLocator> {
  /** The initiator's locator: answer the R1 there. */
  replyTo: L;
  /** The rendezvous server's address (16 bytes) for VIA_RVS. */
  via: Uint8Array;
}

interface Grant {
  types: Map<number, number>; // type -> expiresAt
  lifetimeS: number;
  tokens: number;
  refilledAt: number;
}

/** Registration state of one engine: grants (as registrar), registrations held and pending requests (as requester). */
export class Registry<L extends PeerLocator> {
  /** Counters. */
  readonly stats: RegistryStats = { granted: 0, refused: 0, cancelled: 0, forwarded: 0, rateLimited: 0, notRegistered: 0, answeredViaRvs: 0 };
  private readonly grants = new Map<string, Grant>();
  private readonly held = new Map<string, RegistrationInfo>();
  private readonly pending = new Map<string, RegistrationRequest>();
  /** REG_INFO of each registrar seen in an R1: its bounds clamp later requests sent by UPDATE. */
  private readonly offers = new Map<string, { minLifetime: number; maxLifetime: number; regTypes: number[] }>();

  constructor(
    /** What we offer as a registrar (none: we are not one). */
    readonly registrar: RegistrarOptions | undefined,
    /** The driver's locator details (none: no rendezvous). */
    readonly codec: LocatorCodec<L> | undefined,
  ) {}

  /** Ask for `req` in the I2 of the next BEX with `peerHit`. */
  request(peerHit: Uint8Array, req: RegistrationRequest): void {
    this.pending.set(hitKey(peerHit), { types: [...req.types], lifetimeS: req.lifetimeS });
  }

  /** Registrations we hold with servers (expired ones left out). */
  heldRegistrations(now: number): RegistrationInfo[] {
    return [...this.held.values()].filter((r) => r.expiresAt > now);
  }

  /** Clients registered with us (expired ones left out). */
  clients(now: number): RegistrationInfo[] {
    const out: RegistrationInfo[] = [];
    for (const [key, g] of this.grants) {
      const types = [...g.types].filter(([, exp]) => exp > now).map(([t]) => t);
      const expiresAt = Math.max(0, ...g.types.values());
      if (types.length > 0) out.push({ peerHit: hexToBytes(key), types, lifetimeS: g.lifetimeS, expiresAt });
    }
    return out;
  }

  /** Forget everything about a peer whose association is gone. */
  forget(peerHit: Uint8Array): void {
    const key = hitKey(peerHit);
    this.grants.delete(key);
    this.held.delete(key);
    this.offers.delete(key);
    this.pending.delete(key);
  }

  /**
   * Requester: the REG_REQUEST to send in an UPDATE on an existing association (RFC 8003 §3.3),
   * clamped to the registrar's REG_INFO when we saw one; the answer, in the acknowledging
   * UPDATE, is read as an R2's would be. A lifetime of 0 cancels.
   */
  updateRequest(peerHit: Uint8Array, req: RegistrationRequest): HipParam {
    const key = hitKey(peerHit);
    this.pending.set(key, { types: [...req.types], lifetimeS: req.lifetimeS });
    const info = this.offers.get(key);
    let lifetime = encodeLifetime(req.lifetimeS);
    if (lifetime !== 0 && info) lifetime = Math.min(info.maxLifetime, Math.max(info.minLifetime, lifetime));
    return { type: ParamType.REG_REQUEST, lifetime, regTypes: [...req.types] };
  }

  /** @internal Requester: a registration request got no answer at all; report it failed. */
  unanswered(ctx: EngineContext<L>, peerHit: Uint8Array, error: string): void {
    const key = hitKey(peerHit);
    const asked = this.pending.get(key);
    if (!asked) return;
    this.pending.delete(key);
    ctx.emit({ type: 'registration', role: 'requester', peerHit: peerHit.slice(), granted: [], lifetimeS: 0, failed: [], error });
  }

  /** Registrar: the granted types of a client that are live at `now`. */
  isGranted(peerHit: Uint8Array, type: number, now: number): boolean {
    const exp = this.grants.get(hitKey(peerHit))?.types.get(type);
    return exp !== undefined && exp > now;
  }

  /**
   * Whether the association with `peerHit` carries a live registration, either way. Such an
   * association is in use even without data: the idle timer (UAL) does not close it.
   */
  carries(peerHit: Uint8Array, now: number): boolean {
    const key = hitKey(peerHit);
    const held = this.held.get(key);
    if (held && held.expiresAt > now) return true;
    const g = this.grants.get(key);
    return g !== undefined && [...g.types.values()].some((exp) => exp > now);
  }

  /** Requester: whether we hold a live registration of `type` with `peerHit`. */
  holds(peerHit: Uint8Array, type: number, now: number): boolean {
    const r = this.held.get(hitKey(peerHit));
    return r !== undefined && r.expiresAt > now && r.types.includes(type);
  }

  // ---- hooks of the base exchange ---------------------------------------------------------

  /** @internal R1 template: the REG_INFO parameter, when we are a registrar. */
  regInfo(): HipParam | undefined {
    const r = this.registrar;
    if (!r || r.types.length === 0) return undefined;
    const [min, max] = this.bounds();
    return { type: ParamType.REG_INFO, minLifetime: min, maxLifetime: max, regTypes: [...r.types] };
  }

  /**
   * @internal
   * I2 (requester): the REG_REQUEST for a pending request, clamped to the R1's REG_INFO. Types
   * the registrar does not offer are reported failed at once; the request is consumed.
   */
  regRequest(ctx: EngineContext<L>, peerHit: Uint8Array, r1: HipPacket): HipParam | undefined {
    const key = hitKey(peerHit);
    const info = getParam(r1, ParamType.REG_INFO);
    if (info) this.offers.set(key, { minLifetime: info.minLifetime, maxLifetime: info.maxLifetime, regTypes: [...info.regTypes] });
    const req = this.pending.get(key);
    if (!req) return undefined;
    const offered = info?.regTypes ?? [];
    const types = req.types.filter((t) => offered.includes(t));
    const missing = req.types.filter((t) => !offered.includes(t));
    if (missing.length > 0 || !info) {
      this.pending.delete(key);
      ctx.emit({
        type: 'registration',
        role: 'requester',
        peerHit: peerHit.slice(),
        granted: [],
        lifetimeS: 0,
        failed: req.types.map((type) => ({ type, failureType: RegFailure.TYPE_UNAVAILABLE })),
      });
      return undefined;
    }
    let lifetime = encodeLifetime(req.lifetimeS);
    if (lifetime !== 0) lifetime = Math.min(info.maxLifetime, Math.max(info.minLifetime, lifetime));
    return { type: ParamType.REG_REQUEST, lifetime, regTypes: types };
  }

  /**
   * @internal
   * Registrar: grant or refuse the REG_REQUEST of an I2 or an UPDATE (`seen`: where it came
   * from); returns REG_RESPONSE / REG_FAILED / REG_FROM for the R2 or the answering UPDATE.
   */
  answer(ctx: EngineContext<L>, pkt: HipPacket, a: Association<L>, now: number, seen: L = a.locator): HipParam[] {
    const req = getParam(pkt, ParamType.REG_REQUEST);
    if (!req) return [];
    const key = hitKey(a.peerHit);
    const r = this.registrar;
    const failed: RegFailureEntry[] = [];
    const granted: number[] = [];
    let lifetime = req.lifetime;
    if (lifetime === 0) {
      // Cancellation (RFC 8003 §3.3): answered with lifetime 0 for the cancelled types.
      const g = this.grants.get(key);
      for (const t of req.regTypes) g?.types.delete(t);
      if (g && g.types.size === 0) this.grants.delete(key);
      this.stats.cancelled++;
      granted.push(...req.regTypes);
    } else {
      const [min, max] = this.bounds();
      lifetime = Math.min(max, Math.max(min, lifetime));
      const hitText = formatHit(a.peerHit);
      const full = !this.grants.has(key) && this.grants.size >= (r?.maxClients ?? 1024) && !this.pruneOne(now);
      for (const t of req.regTypes) {
        if (!r || !r.types.includes(t)) failed.push({ type: t, failureType: RegFailure.TYPE_UNAVAILABLE });
        else if (!allowed(r, hitText, t)) failed.push({ type: t, failureType: RegFailure.CREDENTIALS_REQUIRED });
        else if (full) failed.push({ type: t, failureType: RegFailure.INSUFFICIENT_RESOURCES });
        else granted.push(t);
      }
      if (granted.length > 0) {
        const lifetimeS = lifetimeSeconds(lifetime);
        const g = this.grants.get(key) ?? { types: new Map(), lifetimeS, tokens: this.rate(), refilledAt: now };
        g.lifetimeS = lifetimeS;
        for (const t of granted) g.types.set(t, now + lifetimeS * 1000);
        this.grants.set(key, g);
        this.stats.granted++;
      }
      this.stats.refused += failed.length;
    }
    const out: HipParam[] = [];
    if (granted.length > 0) out.push({ type: ParamType.REG_RESPONSE, lifetime: req.lifetime === 0 ? 0 : lifetime, regTypes: granted });
    for (const ft of [...new Set(failed.map((f) => f.failureType))].sort((x, y) => x - y)) {
      out.push({ type: ParamType.REG_FAILED, failureType: ft, regTypes: failed.filter((f) => f.failureType === ft).map((f) => f.type) });
    }
    const reflexive = this.codec?.addressOf(seen);
    if (reflexive) out.push({ type: ParamType.REG_FROM, port: reflexive.port, protocol: reflexive.protocol, reserved: 0, address: reflexive.address });
    ctx.emit({
      type: 'registration',
      role: 'registrar',
      peerHit: a.peerHit.slice(),
      granted,
      lifetimeS: req.lifetime === 0 ? 0 : lifetimeSeconds(lifetime),
      failed,
    });
    return out;
  }

  /** @internal R2 or answering UPDATE (requester): record what the registrar granted and report it. */
  result(ctx: EngineContext<L>, r2: HipPacket, a: Association<L>, now: number): void {
    const resp = getParam(r2, ParamType.REG_RESPONSE);
    const fails = getParams(r2, ParamType.REG_FAILED);
    const asked = this.pending.get(hitKey(a.peerHit));
    this.pending.delete(hitKey(a.peerHit));
    if (!resp && fails.length === 0 && !asked) return;
    const failed = fails.flatMap((f) => f.regTypes.map((type) => ({ type, failureType: f.failureType })));
    const lifetimeS = resp ? lifetimeSeconds(resp.lifetime) : 0;
    const granted = resp ? [...resp.regTypes] : [];
    if (granted.length > 0 && lifetimeS > 0) {
      this.held.set(hitKey(a.peerHit), { peerHit: a.peerHit.slice(), types: granted, lifetimeS, expiresAt: now + lifetimeS * 1000 });
    } else if (resp && lifetimeS === 0) {
      this.held.delete(hitKey(a.peerHit));
    }
    if (asked && !resp && fails.length === 0) {
      // The server answered without a word about our request: it is no registrar.
      for (const type of asked.types) failed.push({ type, failureType: RegFailure.TYPE_UNAVAILABLE });
    }
    const from = getParam(r2, ParamType.REG_FROM);
    const outcome: RegistrationOutcome = { role: 'requester', peerHit: a.peerHit.slice(), granted, lifetimeS, failed };
    if (from) outcome.reflexive = { address: from.address.slice(), port: from.port };
    ctx.emit({ type: 'registration', ...outcome });
  }

  // ---- rendezvous ---------------------------------------------------------------------

  /**
   * @internal
   * Rendezvous server: an I1 for `pkt.receiverHit`, which is not us. Forward it to that client if
   * it holds a live RENDEZVOUS registration (and its rate allows), with RELAY_FROM (UDP from a
   * port other than 10500), FROM and RVS_HMAC. Returns false when the I1 is not ours to forward (the caller drops it).
   */
  forwardI1(ctx: EngineContext<L>, pkt: HipPacket, from: L, now: number): boolean {
    const client = ctx.associations.get(hitKey(pkt.receiverHit));
    const live = client && (client.state === HipState.ESTABLISHED || client.state === HipState.R2_SENT) && client.hipKeys;
    if (!live || !this.isGranted(pkt.receiverHit, RegType.RENDEZVOUS, now)) {
      this.stats.notRegistered++;
      return false;
    }
    if (getParam(pkt, ParamType.RVS_HMAC) || getParam(pkt, ParamType.FROM)) {
      // One rendezvous hop only: a relayed I1 is never relayed again (no loops between servers).
      this.stats.notRegistered++;
      return false;
    }
    const seen = this.codec?.addressOf(from);
    if (!seen) return false;
    const g = this.grants.get(hitKey(pkt.receiverHit))!;
    const rate = this.rate();
    g.tokens = Math.min(rate, g.tokens + ((now - g.refilledAt) / 1000) * rate);
    g.refilledAt = now;
    if (g.tokens < 1) {
      this.stats.rateLimited++;
      ctx.drop('rate-limited', pkt.type, pkt.senderHit, 'rendezvous forward rate of the client exceeded');
      return true;
    }
    g.tokens -= 1;
    const params: HipParam[] = [...pkt.params];
    // FROM implies port 10500; RELAY_FROM only where that would be wrong (see the module note).
    if (seen.protocol === 17 && seen.port !== HIP_UDP_PORT) {
      params.push({ type: ParamType.RELAY_FROM, port: seen.port, protocol: 17, reserved: 0, address: seen.address });
    }
    params.push({ type: ParamType.FROM, address: seen.address });
    const body = { ...pkt, checksum: 0, params };
    const keys = client.hipKeys!;
    const mac = ctx.provider.hmac(keys.macHash, keys.macOut, authenticatedBytes(emitPacket(body), ParamType.RVS_HMAC));
    const packet = emitPacket({ ...body, params: [...params, { type: ParamType.RVS_HMAC, mac }] });
    ctx.transmit({ to: client.locator, packet, packetType: pkt.type, version: pkt.version });
    this.stats.forwarded++;
    return true;
  }

  /**
   * @internal
   * Registered responder: where an I1 relayed by our rendezvous server came from. Undefined for
   * an ordinary I1; 'bad' when it carries RVS_HMAC but not from a server we are registered with,
   * or the HMAC is wrong; else the initiator's locator and the server's address for VIA_RVS.
   */
  relayedOrigin(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): RelayedOrigin<L> | 'bad' | undefined {
    const hmac = getParam(pkt, ParamType.RVS_HMAC);
    if (!hmac) return undefined;
    const fromParam = getParam(pkt, ParamType.FROM);
    if (!fromParam || !this.codec) return 'bad';
    let server: Association<L> | undefined;
    for (const a of ctx.associations.values()) {
      if (a.locator.key === from.key && a.hipKeys && this.holds(a.peerHit, RegType.RENDEZVOUS, now)) {
        server = a;
        break;
      }
    }
    if (!server) return 'bad';
    const keys = server.hipKeys!;
    const expected = ctx.provider.hmac(keys.macHash, keys.macIn, authenticatedBytes(raw, ParamType.RVS_HMAC));
    if (!bytesEqual(expected, hmac.mac)) return 'bad';
    const relayFrom = getParam(pkt, ParamType.RELAY_FROM);
    const address = relayFrom?.address ?? fromParam.address;
    const replyTo = this.codec.udpLocator(address, relayFrom?.port ?? HIP_UDP_PORT);
    const via = this.codec.addressOf(from)?.address;
    if (!replyTo || !via) return 'bad';
    this.stats.answeredViaRvs++;
    return { replyTo, via };
  }

  private bounds(): [number, number] {
    const r = this.registrar;
    const min = encodeLifetime(r?.minLifetimeS ?? 10, 'up');
    const max = Math.max(min, encodeLifetime(r?.maxLifetimeS ?? 3600, 'down'));
    return [min, max];
  }

  private rate(): number {
    return this.registrar?.forwardPerSecond ?? 20;
  }

  /** Make room by dropping one expired grant; false when none has expired. */
  private pruneOne(now: number): boolean {
    for (const [key, g] of this.grants) {
      if ([...g.types.values()].every((exp) => exp <= now)) {
        this.grants.delete(key);
        return true;
      }
    }
    return false;
  }
}

/** An R1 with VIA_RVS (our rendezvous server's address) appended after the signature. */
export function withViaRvs(r1: Uint8Array, version: 1 | 2, via: Uint8Array): Uint8Array {
  const tlv = emitParam({ type: ParamType.VIA_RVS, addresses: [mapIpv4(via)] }, version);
  const out = new Uint8Array(r1.length + tlv.length);
  out.set(r1);
  out.set(tlv, r1.length);
  out[1] = out.length / 8 - 1;
  return out;
}

function allowed(r: RegistrarOptions, hit: string, type: number): boolean {
  const allow = r.allow;
  if (allow === undefined) return false;
  if (typeof allow === 'function') return allow(hit, type);
  return allow.some((h) => {
    try {
      return formatHit(parseHit(h)) === hit;
    } catch {
      return false;
    }
  });
}
