/**
 * The HIP relay (RFC 5770 §4.12, RFC 9028 §4.12 and §5.9), both sides, sans-IO.
 *
 * Server (registration types RELAY_UDP_HIP and RELAY_UDP_ESP): a control packet for a registered
 * client's HIT is forwarded to the client with RELAY_FROM (the sender's address and port) and
 * RELAY_HMAC (keyed with the server's association with the client). A packet from the client
 * carrying RELAY_TO and a valid RELAY_HMAC is forwarded to the RELAY_TO address; RELAY_HMAC,
 * which only the server could check, is removed and RELAY_TO is left in (the peer may learn its
 * own reflexive address from it).
 *
 * Client: a packet relayed by a server we registered with (RELAY_HMAC valid for our association
 * with it) makes us answer that peer through the server: every control packet we send it goes to
 * the server with RELAY_TO (copied from the RELAY_FROM) and RELAY_HMAC.
 *
 * Hole punching: see {@link RelayService.punch}.
 *
 * Data relay: RFC 9028 gives each client a RELAYED_ADDRESS (a TURN-like allocation). We use the
 * documented equivalent HIPL uses: ESP arrives at the server's one HIP port and is forwarded by
 * (source address, SPI), the SPIs read from the ESP_INFO of the relayed I2/R2 (and UPDATEs). A
 * route towards the peer is installed only once the client confirmed it with an authenticated
 * (RELAY_HMAC) packet to that peer, so no stranger can steer a client's data; routes exist only
 * for clients holding a live RELAY_UDP_ESP registration, at most `maxPeersPerClient` of them,
 * and every relayed byte is charged to the client's token bucket: never an open relay.
 * @module
 */
import { bytesEqual, bytesToHex } from '../bytes.js';
import { hitsEqual, ZERO_HIT } from '../crypto/hit.js';
import {
  authenticatedBytes,
  emitParam,
  getParam,
  PacketType,
  ParamType,
  RegType,
  type HipPacket,
  type HipParam,
} from '../wire/index.js';
import { HipState, type Association } from './association.js';
import { hitKey, type EngineContext } from './context.js';
import type { EngineEvent, PeerLocator, Transmit } from './events.js';
import { announceCandidates, checkLocator } from './update.js';
import type { Registry, WireTransportAddress } from './registration.js';

/** Limits of the relay service, per client (engine option `registrar.relay`). */
export interface RelayLimits {
  /** Control packets relayed per second for one client, both ways (token bucket, burst the same). Default 50. */
  controlPerSecond?: number;
  /** ESP bytes relayed per second for one client, both ways (burst: one second's worth). Default 4 MB/s. */
  espBytesPerSecond?: number;
  /** Peers one client may have data relayed with at once (the least recently used one gives way). Default 16. */
  maxPeersPerClient?: number;
}

/** Counters of the relay service. */
export interface RelayServiceStats {
  /** Control packets forwarded to clients (with RELAY_FROM). */
  controlToClient: number;
  /** Control packets of clients forwarded to their peers (RELAY_TO). */
  controlFromClient: number;
  /** Control packets dropped by a client's rate limit. */
  controlRateLimited: number;
  /** Packets refused: RELAY_TO from a non-client, bad RELAY_HMAC, already relayed. */
  controlRefused: number;
  /** ESP packets relayed. */
  espPackets: number;
  /** ESP bytes relayed. */
  espBytes: number;
  /** ESP packets dropped by a client's byte budget. */
  espRateLimited: number;
  /** ESP routes refused: the SPI is another client's route already. */
  espRoutesRefused: number;
}

interface Route<L> {
  /** The client (HIT hex) whose budget pays. */
  client: string;
  /** The peer (HIT hex) on the other side. */
  peer: string;
  /** The peer's address; undefined: the route leads to the client (wherever it is now). */
  to: L | undefined;
}

interface ClientBudget {
  control: number;
  esp: number;
  at: number;
  /** Peers with routes, and when each last had a packet relayed (least recently used first). */
  peers: Map<string, number>;
}

interface RelayedPeer {
  /** Our relay server's HIT hex and its locator key. */
  server: string;
  serverKey: string;
  /** The peer's transport address as the server sees it (RELAY_FROM). */
  to: WireTransportAddress;
}

/** Peer SPIs waiting for their client's confirmation, all clients together. */
const MAX_PENDING = 4096;

/** The relay service of one engine (server and client side). @internal */
export class RelayService<L extends PeerLocator> {
  /** Counters (server side). */
  readonly stats: RelayServiceStats = {
    controlToClient: 0,
    controlFromClient: 0,
    controlRateLimited: 0,
    controlRefused: 0,
    espPackets: 0,
    espBytes: 0,
    espRateLimited: 0,
    espRoutesRefused: 0,
  };
  private readonly budgets = new Map<string, ClientBudget>();
  /** ESP routes by `${source locator key}|${spi}`. */
  private readonly routes = new Map<string, Route<L>>();
  /** Peer-side SPIs waiting for the client's confirmation: `${client}|${peer}` → route key parts. */
  private readonly pending = new Map<string, { spi: number; to: L }>();
  /** Route keys of each (client, peer, direction), oldest first. */
  private readonly pairRoutes = new Map<string, string[]>();
  /** Client side: peers we answer through a relay server, by peer HIT hex. */
  private readonly relayed = new Map<string, RelayedPeer>();
  /** Client side: our address and port as each server saw them (REG_FROM), by server HIT hex. */
  private readonly reflexive = new Map<string, WireTransportAddress>();
  /** Client side: relayed peers just established, to start hole punching with. */
  private readonly toPunch: Uint8Array[] = [];

  constructor(private readonly registry: Registry<L>) {}

  private get limits(): Required<RelayLimits> {
    const l = this.registry.registrar?.relay ?? {};
    return { controlPerSecond: l.controlPerSecond ?? 50, espBytesPerSecond: l.espBytesPerSecond ?? 4_000_000, maxPeersPerClient: l.maxPeersPerClient ?? 16 };
  }

  private offers(): boolean {
    return this.registry.registrar?.types.includes(RegType.RELAY_UDP_HIP) ?? false;
  }

  // ---- server: control plane --------------------------------------------------------------

  /**
   * A control packet that may be ours to relay. Returns true when it was consumed (forwarded,
   * or dropped as a relay packet we refuse); false when the engine handles it as usual.
   */
  control(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): boolean {
    if (!this.offers()) return false;
    const me = ctx.local(pkt.version);
    if (!me || hitsEqual(pkt.receiverHit, me.hit) || hitsEqual(pkt.receiverHit, ZERO_HIT)) return false;
    const relayTo = getParam(pkt, ParamType.RELAY_TO);
    if (relayTo) return this.fromClient(ctx, pkt, raw, from, relayTo, now);
    const client = this.liveClient(ctx, pkt.receiverHit, RegType.RELAY_UDP_HIP, now);
    if (!client) return false;
    return this.toClient(ctx, pkt, raw, from, client, now);
  }

  private toClient(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, client: Association<L>, now: number): boolean {
    if (getParam(pkt, ParamType.RELAY_FROM) || getParam(pkt, ParamType.RELAY_HMAC) || getParam(pkt, ParamType.RVS_HMAC)) {
      // One relay hop only: a relayed packet is never relayed again (no loops between servers).
      this.stats.controlRefused++;
      ctx.drop('policy', pkt.type, pkt.senderHit, 'packet already relayed');
      return true;
    }
    const seen = this.registry.codec?.addressOf(from);
    if (!seen || seen.protocol !== 17) return false;
    const clientKey = hitKey(client.peerHit);
    if (!this.take(clientKey, 'control', 1, now)) {
      this.stats.controlRateLimited++;
      ctx.drop('rate-limited', pkt.type, pkt.senderHit, 'relay rate of the client exceeded');
      return true;
    }
    const withFrom = appendParams(raw, [{ type: ParamType.RELAY_FROM, port: seen.port, protocol: 17, reserved: 0, address: seen.address }], pkt.version);
    const packet = appendParams(withFrom, [{ type: ParamType.RELAY_HMAC, mac: this.mac(ctx, client, withFrom, 'out') }], pkt.version);
    ctx.transmit({ to: client.locator, packet, packetType: pkt.type, version: pkt.version });
    this.stats.controlToClient++;
    // The peer's inbound SPI: ESP the client sends with it goes to the peer, once confirmed.
    const info = getParam(pkt, ParamType.ESP_INFO);
    if (info && info.newSpi !== 0) {
      // Anyone can send a client an I2: unconfirmed SPIs are few, the oldest forgotten first.
      const key = `${clientKey}|${hitKey(pkt.senderHit)}`;
      this.pending.delete(key);
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(key, { spi: info.newSpi, to: from });
    }
    return true;
  }

  private fromClient(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, relayTo: WireTransportAddress, now: number): boolean {
    const client = this.liveClient(ctx, pkt.senderHit, RegType.RELAY_UDP_HIP, now);
    const hmac = getParam(pkt, ParamType.RELAY_HMAC);
    if (!client || client.locator.key !== from.key || !hmac || !bytesEqual(hmac.mac, this.mac(ctx, client, raw, 'in'))) {
      this.stats.controlRefused++;
      ctx.drop(client && hmac ? 'bad-mac' : 'policy', pkt.type, pkt.senderHit, 'RELAY_TO from a host that is not a relay client, or a bad RELAY_HMAC');
      return true;
    }
    const to = this.registry.codec?.udpLocator(relayTo.address, relayTo.port);
    if (!to) return true;
    const clientKey = hitKey(client.peerHit);
    if (!this.take(clientKey, 'control', 1, now)) {
      this.stats.controlRateLimited++;
      ctx.drop('rate-limited', pkt.type, pkt.senderHit, 'relay rate of the client exceeded');
      return true;
    }
    const packet = cutBefore(raw, ParamType.RELAY_HMAC);
    ctx.transmit({ to, packet, packetType: pkt.type, version: pkt.version });
    this.stats.controlFromClient++;
    if (this.registry.isGranted(client.peerHit, RegType.RELAY_UDP_ESP, now)) this.learnRoutes(client, pkt, to, now);
    return true;
  }

  /**
   * The client talked to `peer` (authenticated): ESP from the peer's address with the client's
   * inbound SPI goes to the client, and a pending peer SPI (from the peer's I2 or UPDATE) is
   * confirmed: ESP from the client with it goes to the peer.
   */
  private learnRoutes(client: Association<L>, pkt: HipPacket, to: L, now: number): void {
    const clientKey = hitKey(client.peerHit);
    const peerKey = hitKey(pkt.receiverHit);
    if (pkt.type === PacketType.CLOSE || pkt.type === PacketType.CLOSE_ACK) {
      // The client ends the association: its routes with that peer go.
      this.dropPeer(clientKey, peerKey);
      return;
    }
    const info = getParam(pkt, ParamType.ESP_INFO);
    if (info && info.newSpi !== 0) this.addRoute(`${to.key}|${info.newSpi}`, { client: clientKey, peer: peerKey, to: undefined }, now);
    const p = this.pending.get(`${clientKey}|${peerKey}`);
    if (p && p.to.key === to.key) {
      this.pending.delete(`${clientKey}|${peerKey}`);
      this.addRoute(`${client.locator.key}|${p.spi}`, { client: clientKey, peer: peerKey, to: p.to }, now);
    }
  }

  private addRoute(key: string, route: Route<L>, now: number): void {
    const old = this.routes.get(key);
    const budget = this.budget(route.client, now);
    if (old && old.client !== route.client) {
      this.stats.espRoutesRefused++;
      return;
    }
    if (!budget.peers.has(route.peer) && budget.peers.size >= this.limits.maxPeersPerClient) {
      // Only the client confirms routes, so only it can churn them: its least recently used
      // peer makes room (the number of routes per client stays bounded).
      const [lru] = [...budget.peers].sort((x, y) => x[1] - y[1])[0]!;
      this.dropPeer(route.client, lru);
    }
    budget.peers.set(route.peer, budget.peers.get(route.peer) ?? now);
    // Each rekey adds an SPI: keep the newest two per direction (the old one still carries
    // packets in flight), so a pair's routes stay bounded however often it rekeys.
    const pair = `${route.client}|${route.peer}|${route.to ? 'out' : 'in'}`;
    const keys = (this.pairRoutes.get(pair) ?? []).filter((k) => k !== key && this.routes.get(k) !== undefined);
    while (keys.length >= 2) this.routes.delete(keys.shift()!);
    keys.push(key);
    this.pairRoutes.set(pair, keys);
    this.routes.set(key, route);
  }

  /** Forget the routes between a client and one peer. */
  private dropPeer(client: string, peer: string): void {
    for (const [k, r] of this.routes) if (r.client === client && r.peer === peer) this.routes.delete(k);
    this.pairRoutes.delete(`${client}|${peer}|in`);
    this.pairRoutes.delete(`${client}|${peer}|out`);
    this.budgets.get(client)?.peers.delete(peer);
  }

  // ---- server: data plane -----------------------------------------------------------------

  /**
   * An ESP packet with an SPI the host does not own: where to relay it, or undefined (dropped).
   * Charged to the client's byte budget.
   */
  esp(ctx: EngineContext<L>, bytes: Uint8Array, from: L, now: number): L | undefined {
    if (this.routes.size === 0 || bytes.length < 8) return undefined;
    const spi = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    const key = `${from.key}|${spi}`;
    const route = this.routes.get(key);
    if (!route) return undefined;
    const client = ctx.associations.get(route.client);
    if (!client || !this.isLive(client) || !this.registry.isGranted(client.peerHit, RegType.RELAY_UDP_ESP, now)) {
      this.dropClient(route.client);
      return undefined;
    }
    if (!this.take(route.client, 'esp', bytes.length, now)) {
      this.stats.espRateLimited++;
      return undefined;
    }
    this.budgets.get(route.client)?.peers.set(route.peer, now);
    this.stats.espPackets++;
    this.stats.espBytes += bytes.length;
    return route.to ?? client.locator;
  }

  /** Forget a client's routes (its registration or association ended). */
  private dropClient(client: string): void {
    for (const [k, r] of this.routes) if (r.client === client) this.routes.delete(k);
    for (const k of this.pending.keys()) if (k.startsWith(`${client}|`)) this.pending.delete(k);
    for (const k of this.pairRoutes.keys()) if (k.startsWith(`${client}|`)) this.pairRoutes.delete(k);
    this.budgets.delete(client);
  }

  /** Number of ESP routes held (for inspection). */
  get routeCount(): number {
    return this.routes.size;
  }

  private liveClient(ctx: EngineContext<L>, hit: Uint8Array, type: number, now: number): Association<L> | undefined {
    const a = ctx.associations.get(hitKey(hit));
    return a && this.isLive(a) && this.registry.isGranted(hit, type, now) ? a : undefined;
  }

  private isLive(a: Association<L>): boolean {
    return (a.state === HipState.ESTABLISHED || a.state === HipState.R2_SENT) && a.hipKeys !== undefined;
  }

  private budget(client: string, now: number): ClientBudget {
    let b = this.budgets.get(client);
    if (!b) {
      const l = this.limits;
      b = { control: l.controlPerSecond, esp: l.espBytesPerSecond, at: now, peers: new Map() };
      this.budgets.set(client, b);
    }
    return b;
  }

  private take(client: string, kind: 'control' | 'esp', amount: number, now: number): boolean {
    const b = this.budget(client, now);
    const l = this.limits;
    const dt = Math.max(0, now - b.at) / 1000;
    b.at = Math.max(b.at, now);
    b.control = Math.min(l.controlPerSecond, b.control + dt * l.controlPerSecond);
    b.esp = Math.min(l.espBytesPerSecond, b.esp + dt * l.espBytesPerSecond);
    if (b[kind] < amount) return false;
    b[kind] -= amount;
    return true;
  }

  private mac(ctx: EngineContext<L>, a: Association<L>, packet: Uint8Array, dir: 'in' | 'out'): Uint8Array {
    const k = a.hipKeys!;
    return ctx.provider.hmac(k.macHash, dir === 'in' ? k.macIn : k.macOut, authenticatedBytes(packet, ParamType.RELAY_HMAC));
  }

  // ---- client side ------------------------------------------------------------------------

  /**
   * A packet that may have come through our relay server: undefined when it carries no
   * RELAY_HMAC; 'bad' when it does but not from a server we hold RELAY_UDP_HIP with, or the
   * HMAC is wrong; 'ok' when valid (from now on we answer its sender through the server).
   */
  accept(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): 'ok' | 'bad' | undefined {
    const hmac = getParam(pkt, ParamType.RELAY_HMAC);
    if (!hmac) return undefined;
    const relayFrom = getParam(pkt, ParamType.RELAY_FROM);
    if (!relayFrom) return 'bad';
    let server: Association<L> | undefined;
    for (const a of ctx.associations.values()) {
      if (a.locator.key === from.key && this.isLive(a) && this.registry.holds(a.peerHit, RegType.RELAY_UDP_HIP, now)) {
        server = a;
        break;
      }
    }
    if (!server || !bytesEqual(hmac.mac, this.mac(ctx, server, raw, 'in'))) return 'bad';
    this.relayed.set(hitKey(pkt.senderHit), { server: hitKey(server.peerHit), serverKey: from.key, to: { address: relayFrom.address.slice(), port: relayFrom.port } });
    return 'ok';
  }

  /** Whether we reach this peer through a relay server (client side). */
  isRelayed(peerHit: Uint8Array): boolean {
    return this.relayed.has(hitKey(peerHit));
  }

  /** The peer's transport address as our relay server sees it (its RELAY_FROM), if relayed. */
  relayedAddress(peerHit: Uint8Array): WireTransportAddress | undefined {
    return this.relayed.get(hitKey(peerHit))?.to;
  }

  /**
   * Client side, on every control packet we send: one for a relayed peer that goes to its
   * server gets RELAY_TO and RELAY_HMAC.
   */
  wrap(ctx: EngineContext<L>, t: Transmit<L>): Transmit<L> {
    if (this.relayed.size === 0 || t.packet.length < 40) return t;
    const entry = this.relayed.get(bytesToHex(t.packet.subarray(24, 40)));
    if (!entry || entry.serverKey !== t.to.key) return t;
    const server = ctx.associations.get(entry.server);
    if (!server || !this.isLive(server)) return t;
    const withTo = appendParams(t.packet, [{ type: ParamType.RELAY_TO, port: entry.to.port, protocol: 17, reserved: 0, address: entry.to.address }], t.version);
    return { ...t, packet: appendParams(withTo, [{ type: ParamType.RELAY_HMAC, mac: this.mac(ctx, server, withTo, 'out') }], t.version) };
  }

  /** Client side: watch the engine's events for our reflexive address, new relayed peers and ended ones. */
  noteEvent(e: EngineEvent): void {
    if (e.type === 'registration' && e.role === 'requester' && e.reflexive) this.reflexive.set(hitKey(e.peerHit), e.reflexive);
    else if (e.type === 'established' && this.relayed.has(hitKey(e.peerHit))) this.toPunch.push(e.peerHit);
    else if (e.type === 'closed' || e.type === 'failed') this.relayed.delete(hitKey(e.peerHit));
  }

  /**
   * Client side, after each packet: hole punching with relayed peers just established (RFC 9028
   * §4.6, simplified). We announce our server-reflexive candidate (the REG_FROM our server gave
   * us) through the relay, and check the peer's (its RELAY_FROM) directly; that outgoing check
   * opens our NAT for the peer's own check. The first echo returned moves the association to
   * the direct path; checks that fail leave it on the relay.
   */
  punch(ctx: EngineContext<L>, now: number): void {
    while (this.toPunch.length > 0) {
      const peerHit = this.toPunch.shift()!;
      const entry = this.relayed.get(hitKey(peerHit));
      const a = ctx.associations.get(hitKey(peerHit));
      if (!entry || !a || !ctx.config.holePunching || a.locator.key !== entry.serverKey) continue;
      const mine = this.reflexive.get(entry.server);
      if (mine) announceCandidates(ctx, a, [mine], now);
      const theirs = this.registry.codec?.udpLocator(entry.to.address, entry.to.port);
      // Queued behind the announcement (not pre-empting it): the peer needs our candidate first.
      if (theirs && theirs.key !== a.locator.key) checkLocator(ctx, a, theirs, false, now, false);
    }
  }

}

/** A packet with TLVs appended (Header Length adjusted, checksum left for the carrier). */
export function appendParams(packet: Uint8Array, params: HipParam[], version: 1 | 2): Uint8Array {
  const tlvs = params.map((p) => emitParam(p, version));
  const out = new Uint8Array(packet.length + tlvs.reduce((n, t) => n + t.length, 0));
  out.set(packet);
  let off = packet.length;
  for (const t of tlvs) {
    out.set(t, off);
    off += t.length;
  }
  out[1] = out.length / 8 - 1;
  return out;
}

/** A packet cut before its first TLV of `type` (Header Length adjusted). */
function cutBefore(packet: Uint8Array, type: number): Uint8Array {
  const out = authenticatedBytes(packet, type);
  // authenticatedBytes zeroes the checksum, which over UDP is zero anyway (RFC 5770).
  return out;
}
