/**
 * The lab for UPDATE tests that play an unusual peer: two established engines in the simulated
 * network, every UPDATE put on the wire recorded, and UPDATEs sealed with a peer's real keys
 * (HIP_MAC and HIP_SIGNATURE good), so only the check under test can refuse them.
 */
import { expect } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import type { Association } from '../../src/core/association.js';
import type { EngineOptions } from '../../src/core/config.js';
import { hitKey, type EngineContext } from '../../src/core/context.js';
import type { PeerLocator } from '../../src/core/events.js';
import type { LocatorCodec } from '../../src/core/registration.js';
import { sealPacket } from '../../src/core/sealing.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { encodeLocatorValue, LocatorTrafficType, LocatorType, mapIpv4, PacketType, ParamType, parsePacket, type HipPacket, type HipParam, type Locator } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

export const idA = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
export const idB = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
/** Two addresses to announce. */
export const X = mapIpv4(new Uint8Array([10, 77, 0, 11]));
export const Y = mapIpv4(new Uint8Array([10, 77, 0, 12]));

/** The engine's insides a test needs to play a peer that sends unusual UPDATEs. */
export interface Inside {
  ctx: EngineContext<PeerLocator>;
  associations: Map<string, Association<PeerLocator>>;
}
export const inside = (n: SimNode): Inside => n.engine as unknown as Inside;
export const assoc = (n: SimNode, peerHit: Uint8Array): Association<PeerLocator> => inside(n).associations.get(hitKey(peerHit))!;

/**
 * An UPDATE `from` sends its peer, sealed with its real keys (HIP_MAC and HIP_SIGNATURE good);
 * `header` changes the header before sealing (version, receiver HIT).
 */
export function sealUpdate(from: SimNode, peerHit: Uint8Array, params: HipParam[], header: Partial<HipPacket> = {}): Uint8Array {
  const ctx = inside(from).ctx;
  const a = assoc(from, peerHit);
  const me = ctx.local(a.version)!;
  const sorted = [...params].sort((x, y) => x.type - y.type);
  return sealPacket(
    ctx.provider,
    { version: a.version, type: PacketType.UPDATE, controls: 0, checksum: 0, senderHit: a.localHit, receiverHit: a.peerHit, params: sorted, ...header },
    { type: ParamType.HIP_MAC, hash: a.hipKeys!.macHash, key: a.hipKeys!.macOut },
    { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
  );
}

/** Drops a node recorded, as [reason, detail]. */
export const drops = (n: SimNode): [string, string | undefined][] => SimNetwork.eventsOf(n, 'dropped').map((e) => [e.reason, e.detail]);

export interface Sent {
  from: string;
  to: string;
  at: number;
  pkt: HipPacket;
}

export interface Lab {
  net: SimNetwork;
  a: SimNode;
  b: SimNode;
  hitA: Uint8Array;
  hitB: Uint8Array;
  /** Every UPDATE put on the wire since the association was established (lost ones too). */
  sent: Sent[];
  /** Hand a packet to `to` as if it came from `fromKey`, then collect what it sends. */
  deliver(to: SimNode, packet: Uint8Array, fromKey: string): void;
}

/** Two established peers (HIPv1 with `opts.version` 1, which needs `deps.identities` RSA). */
export function lab(
  seed: string,
  opts: EngineOptions = {},
  deps: { locators?: (net: SimNetwork) => LocatorCodec<PeerLocator>; identities?: [HostIdentity, HostIdentity] } = {},
): Lab {
  const net = new SimNetwork(seed);
  const d = deps.locators ? { locators: deps.locators(net) } : {};
  const [ia, ib] = deps.identities ?? [idA, idB];
  const a = net.addNode('a', ia, { idleTimeoutMs: 0, ...opts }, d);
  const b = net.addNode('b', ib, { idleTimeoutMs: 0, ...opts }, d);
  const hitA = a.engine.localHit(opts.version ?? 2);
  const hitB = b.engine.localHit(opts.version ?? 2);
  a.engine.connect(hitB, [b.locator], net.now);
  net.run(net.now + 10_000);
  expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  const sent: Sent[] = [];
  net.hook = (t, from, to) => {
    if (t.packetType === PacketType.UPDATE) sent.push({ from: from.name, to: to.name, at: net.now, pkt: parsePacket(t.packet) });
    return t.packet;
  };
  net.log.length = 0;
  for (const n of [a, b]) n.events.length = 0;
  return {
    net,
    a,
    b,
    hitA,
    hitB,
    sent,
    deliver(to, packet, fromKey) {
      to.engine.handlePacket(packet, { key: fromKey }, net.now);
      net.flush();
    },
  };
}

/** Sim locators `sim:c<n>` are reached at 192.0.2.<n>, UDP port 40000 + n. */
export function simCodec(net: SimNetwork): LocatorCodec<PeerLocator> {
  return {
    addressOf(l) {
      const n = Number(l.key.replace('sim:c', ''));
      return Number.isInteger(n) ? { address: mapIpv4(new Uint8Array([192, 0, 2, n])), port: 40000 + n, protocol: 17 } : undefined;
    },
    udpLocator(address, port) {
      if (!bytesEqual(address.subarray(0, 15), mapIpv4(new Uint8Array([192, 0, 2, 0])).subarray(0, 15))) return undefined;
      const key = `sim:c${address[15]}`;
      return port === 40000 + address[15]! ? (net.nodes.get(key)?.locator ?? { key }) : undefined;
    },
  };
}

/** A transport candidate (RFC 9028) at 192.0.2.<n>, UDP port 40000 + n unless told. */
export function transport(n: number, opts: { protocol?: number; port?: number } = {}): Locator {
  const v = encodeLocatorValue({
    locatorType: LocatorType.TRANSPORT,
    port: opts.port ?? 40000 + n,
    protocol: opts.protocol ?? 17,
    kind: 1,
    priority: 100 - n,
    spi: 1,
    address: mapIpv4(new Uint8Array([192, 0, 2, n])),
  });
  return { trafficType: LocatorTrafficType.BOTH, locatorType: v.locatorType, preferred: false, reserved: 0, lifetime: 60, value: v.value };
}

/** An SPI + address locator for 192.0.2.<n>. */
export function espAddress(n: number): Locator {
  const v = encodeLocatorValue({ locatorType: LocatorType.ESP_SPI_ADDRESS, spi: 1, address: mapIpv4(new Uint8Array([192, 0, 2, n])) });
  return { trafficType: LocatorTrafficType.BOTH, locatorType: v.locatorType, preferred: false, reserved: 0, lifetime: 60, value: v.value };
}

export const seqParam = (updateId: number): HipParam => ({ type: ParamType.SEQ, updateId });
export const ackParam = (...updateIds: number[]): HipParam => ({ type: ParamType.ACK, updateIds });
export const espInfo = (oldSpi: number, newSpi: number, keymatIndex = 0): HipParam => ({ type: ParamType.ESP_INFO, reserved: 0, keymatIndex, oldSpi, newSpi });
/** The UPDATEs `from` sent (to `to`). */
export const fromTo = (l: Lab, from: string, to?: string): Sent[] => l.sent.filter((s) => s.from === from && (to === undefined || s.to === to));

/** Drop every UPDATE from `who` (after recording it): the test answers in its place. */
export function silence(l: Lab, who: string): void {
  const record = l.net.hook!;
  l.net.hook = (t, from, to) => {
    const bytes = record(t, from, to);
    return from.name === who && t.packetType === PacketType.UPDATE ? undefined : bytes;
  };
}
