/**
 * A deterministic in-memory network for engine tests: a fake clock, seeded randomness and
 * configurable loss, duplication, reordering and delay. Everything an engine sends goes
 * through `deliver`, which a test may also use to tamper with or drop packets.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { HipEngine, type EngineDeps } from '../../src/core/engine.js';
import type { EngineOptions } from '../../src/core/config.js';
import type { EngineEvent, PeerLocator, Transmit } from '../../src/core/events.js';
import type { HostIdentity } from '../../src/crypto/identity.js';

/**
 * `id`'s keys presented under another HIT (`hit(version)`): a peer whose HOST_ID does not hash
 * to the HIT it claims, for the checks that must notice.
 */
export function claimingHit(id: HostIdentity, hit: (v?: 1 | 2) => Uint8Array): HostIdentity {
  return {
    algorithm: id.algorithm,
    privateKey: id.privateKey,
    publicKey: id.publicKey,
    hitSuite: id.hitSuite,
    hostIdentity: (v: 1 | 2 = 2) => id.hostIdentity(v),
    hit,
  } as unknown as HostIdentity;
}

/** Deterministic random bytes: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  let pool = new Uint8Array(0);
  const enc = new TextEncoder();
  return (n: number) => {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (pool.length === 0) pool = sha256(enc.encode(`${seed}:${counter++}`));
      const take = Math.min(pool.length, n - filled);
      out.set(pool.subarray(0, take), filled);
      pool = pool.subarray(take);
      filled += take;
    }
    return out;
  };
}

/** A number in [0, 1) from a random source. */
function unit(random: (n: number) => Uint8Array): number {
  const b = random(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
}

/** Network impairments, each a probability (0..1) except delays in ms. */
export interface Impairments {
  loss?: number;
  duplicate?: number;
  reorder?: number;
  delayMs?: number;
  jitterMs?: number;
}

export interface SimNode {
  name: string;
  engine: HipEngine;
  locator: PeerLocator;
  events: EngineEvent[];
}

interface InFlight {
  at: number;
  seq: number;
  to: SimNode;
  from: SimNode;
  /** The sender's locator when it sent (a node may move while a packet is in flight). */
  fromLocator: PeerLocator;
  /** The destination address the packet was sent to. */
  toKey: string;
  packet: Uint8Array;
  packetType: number;
}

/** Filter a test can install: return `undefined` to drop, or (possibly changed) bytes. */
export type PacketHook = (t: Transmit, from: SimNode, to: SimNode) => Uint8Array | undefined;

export class SimNetwork {
  now = 0;
  readonly nodes = new Map<string, SimNode>();
  readonly log: { at: number; from: string; to: string; packetType: number; dropped: boolean }[] = [];
  hook: PacketHook | undefined;
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly rnd: (n: number) => Uint8Array;

  constructor(
    seed: string,
    public impairments: Impairments = {},
  ) {
    this.rnd = seededRandom(`${seed}:net`);
  }

  addNode(name: string, identity: HostIdentity, options: EngineOptions = {}, deps: EngineDeps = {}): SimNode {
    const engine = new HipEngine(identity, options, { random: seededRandom(`${name}`), ...deps });
    const node: SimNode = { name, engine, locator: { key: `sim:${name}` }, events: [] };
    this.nodes.set(node.locator.key, node);
    return node;
  }

  /** Move every pending output of every node onto the wire. */
  flush(): void {
    for (const node of this.nodes.values()) {
      for (let t = node.engine.pollTransmit(); t; t = node.engine.pollTransmit()) this.send(node, t);
      for (let e = node.engine.pollEvent(); e; e = node.engine.pollEvent()) node.events.push(e);
    }
  }

  private send(from: SimNode, t: Transmit): void {
    const to = this.nodes.get(t.to.key);
    if (!to) return;
    let packet: Uint8Array | undefined = t.packet;
    if (this.hook) packet = this.hook(t, from, to);
    const imp = this.impairments;
    const lost = packet === undefined || unit(this.rnd) < (imp.loss ?? 0);
    this.log.push({ at: this.now, from: from.name, to: to.name, packetType: t.packetType, dropped: lost });
    if (lost || !packet) return;
    const copies = unit(this.rnd) < (imp.duplicate ?? 0) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      let delay = (imp.delayMs ?? 1) + unit(this.rnd) * (imp.jitterMs ?? 0);
      if (unit(this.rnd) < (imp.reorder ?? 0)) delay += 50;
      this.queue.push({ at: this.now + delay, seq: this.seq++, to, from, fromLocator: from.locator, toKey: t.to.key, packet: packet.slice(), packetType: t.packetType });
    }
  }

  /**
   * The node gets a new address (it moved, or its NAT rebound it): packets to the old one are
   * lost from now on, and it sends from the new one.
   */
  move(node: SimNode, key: string): void {
    this.nodes.delete(node.locator.key);
    node.locator = { key };
    this.nodes.set(key, node);
  }

  /**
   * The node restarts: same identity and address, a fresh engine that knows nothing of its
   * associations (a crashed and restarted peer). Packets in flight to it reach the new engine.
   */
  restart(node: SimNode, identity: HostIdentity, options: EngineOptions = {}): void {
    node.engine = new HipEngine(identity, options, { random: seededRandom(`${node.name}:restarted`) });
    node.events.length = 0;
  }

  /** Deliver a raw packet to a node now (for replay and forgery tests). */
  inject(to: SimNode, packet: Uint8Array, from: SimNode): void {
    to.engine.handlePacket(packet, from.locator, this.now);
    this.flush();
  }

  /** Run until nothing is in flight and no timer is due before `until`. Returns the final time. */
  run(until = this.now + 600_000): number {
    this.flush();
    for (let steps = 0; steps < 100_000; steps++) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const nextPacket = this.queue[0]?.at;
      let nextTimer: number | undefined;
      for (const n of this.nodes.values()) {
        const t = n.engine.nextTimeout();
        if (t !== undefined && (nextTimer === undefined || t < nextTimer)) nextTimer = t;
      }
      const next = Math.min(nextPacket ?? Infinity, nextTimer ?? Infinity);
      if (next === Infinity || next > until) return this.now;
      this.now = Math.max(this.now, next);
      if (nextPacket !== undefined && nextPacket <= this.now) {
        const p = this.queue.shift()!;
        // The destination moved away while the packet was in flight: the old address is gone.
        if (this.nodes.get(p.toKey) !== p.to) continue;
        p.to.engine.handlePacket(p.packet, p.fromLocator, this.now);
      } else {
        for (const n of this.nodes.values()) n.engine.handleTimeout(this.now);
      }
      this.flush();
    }
    throw new Error('simulation did not settle');
  }

  /** Events of a type seen by a node. */
  static eventsOf<T extends EngineEvent['type']>(node: SimNode, type: T): Extract<EngineEvent, { type: T }>[] {
    return node.events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
  }
}
