/**
 * UPDATE (RFC 7401 §5.3.5, §6.11-6.12; RFC 7402 §6.9 rekeying; RFC 8046 mobility, and RFC 5206
 * as HIPL's hipd speaks it in HIPv1): SEQ/ACK with retransmission, the readdress exchange with
 * LOCATOR_SET and a signed echo, ESP_INFO rekeying (optionally with a new DH key), and liveness
 * probes. Sans-IO like the rest of the core: packets out through the context, events out, timers
 * as absolute times the engine polls.
 *
 * Exchanges (each UPDATE carries HIP_MAC and HIP_SIGNATURE):
 * ```
 * readdress   M → P  ESP_INFO(old = new), LOCATOR_SET, SEQ             (to P's current locator)
 *             P → M  ESP_INFO(old = new), SEQ, ACK, ECHO_REQUEST_SIGNED (to the UPDATE's source)
 *             M → P  ACK, ECHO_RESPONSE_SIGNED                          → P moves to that source
 * rebinding   P → X  SEQ, ECHO_REQUEST_SIGNED    (ESP came from X: check before using X)
 *             M → P  ACK, ECHO_RESPONSE_SIGNED                          → P moves to X
 * rekey       A → B  ESP_INFO(old, new, index), SEQ, [DIFFIE_HELLMAN]
 *             B → A  ESP_INFO(old, new, index), SEQ, ACK, [DIFFIE_HELLMAN]
 *             A → B  ACK                          → both install the new SA pair
 * probe       A → B  SEQ;  B → A  ACK            (liveness: no ACK at all → path dead)
 * register    C → S  REG_REQUEST, SEQ;  S → C  ACK, REG_RESPONSE | REG_FAILED, REG_FROM
 *             (RFC 8003 §3.3-3.4: renewal, or cancellation with lifetime 0, of a registration)
 * ```
 * One UPDATE of ours is outstanding at a time; further work waits in a small queue (one entry
 * per kind, the newest request of a kind wins).
 * @module
 */
import { bytesEqual } from '../bytes.js';
import type { DhKeyPair } from '../crypto/provider.js';
import {
  decodeLocatorValue,
  encodeLocatorValue,
  getParam,
  LocatorTrafficType,
  LocatorType,
  PacketType,
  ParamType,
  type HipPacket,
  type HipParam,
  type Locator,
} from '../wire/index.js';
import { HipState, type Association } from './association.js';
import { hitKey, type EngineContext } from './context.js';
import { newDhKey } from './dh-private.js';
import type { PeerLocator } from './events.js';
import { armIdle, errorText } from './lifecycle.js';
import { abandonCheck, activatePath } from './paths.js';
import { LOSS_PROBE_RETRIES } from './config.js';
import { peerLost } from './peer-loss.js';
import { authentic, sealForPeer } from './teardown.js';
import { SHOTGUN_PACE_MS, updateTargets } from './shotgun.js';
import { backoff } from './timers.js';
import type { Outstanding, Rekey, UpdatePurpose, Want } from './update-state.js';

/** Locator lifetime announced in LOCATOR_SET, seconds (RFC 8046 asks for a non-zero value). */
const LOCATOR_LIFETIME_S = 3600;
/** Echo nonce bytes: 16 in HIPv2; 4 in HIPv1, as hipd sends. */
const echoLength = (version: 1 | 2): number => (version === 1 ? 4 : 16);

/** Is `a` after `b` in 32-bit wrapping sequence space. */
export function seqAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}

/**
 * Queue work for when no UPDATE of ours is outstanding: one entry per kind, the newest request of
 * a kind wins; but one check per locator (each transport candidate needs its own, RFC 9028 §5.7),
 * and only for locators still in the path table, which bounds them.
 */
function queue<L extends PeerLocator>(a: Association<L>, w: Want<L>): void {
  const u = a.update;
  const same = (x: Want<L>): boolean => (x.kind === 'verify' && w.kind === 'verify' ? x.locator.key === w.locator.key : x.kind === w.kind);
  const i = u.wants.findIndex(same);
  if (i >= 0) u.wants[i] = w;
  else u.wants.push(w);
  if (w.kind !== 'verify') return;
  for (let j = u.wants.length - 1; j >= 0; j--) {
    const x = u.wants[j]!;
    if (x.kind === 'verify' && !a.paths.get(x.locator.key)) u.wants.splice(j, 1);
  }
}

function canUpdate<L extends PeerLocator>(a: Association<L>): boolean {
  return (a.state === HipState.ESTABLISHED || a.state === HipState.R2_SENT) && a.hipKeys !== undefined && a.sa !== undefined;
}

/** Ask for an UPDATE announcing our addresses (each 16 bytes, IPv6 or IPv4-mapped) to the peer. */
export function announceLocators<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, addresses: Uint8Array[], now: number): void {
  if (!canUpdate(a)) return;
  queue(a, { kind: 'announce', addresses: addresses.map((x) => x.slice()) });
  // A new announcement makes an older one in flight pointless: send the newest at once.
  if (a.update.out?.purpose === 'announce') cancelOutstanding(a);
  pumpWants(ctx, a, now);
}

/**
 * Announce transport candidates (address and port, RFC 9028 §5.7 LOCATOR_SET with transport
 * locators) to the peer on its current path, so it can run connectivity checks to them.
 */
export function announceCandidates<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, candidates: { address: Uint8Array; port: number }[], now: number): void {
  if (!canUpdate(a) || candidates.length === 0) return;
  queue(a, { kind: 'announce', addresses: candidates.map((c) => c.address.slice()), ports: candidates.map((c) => c.port) });
  pumpWants(ctx, a, now);
}

/** At most this many transport candidates of a peer are checked (each check is one UPDATE exchange). */
const MAX_CANDIDATES = 4;

/**
 * The peer announced transport candidates (a relayed peer, RFC 9028; authenticated UPDATE): run a
 * connectivity check to each, an UPDATE with ECHO_REQUEST_SIGNED sent there directly. The one
 * that returns the echo becomes the path; one that never does is abandoned (data stays where
 * it is).
 */
function checkCandidates<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, pkt: HipPacket, from: L, now: number): void {
  const set = getParam(pkt, ParamType.LOCATOR_SET);
  const codec = ctx.registry.codec;
  if (!set || !codec || !ctx.config.holePunching) return;
  let n = 0;
  for (const l of set.locators) {
    if (l.locatorType !== LocatorType.TRANSPORT || n >= MAX_CANDIDATES) continue;
    let v;
    try {
      v = decodeLocatorValue(l);
    } catch {
      continue;
    }
    if (v.locatorType !== LocatorType.TRANSPORT || v.protocol !== 17) continue;
    const loc = codec.udpLocator(v.address, v.port);
    if (!loc || loc.key === a.locator.key) continue;
    n++;
    checkLocator(ctx, a, loc, false, now);
  }
}

/** Ask for a rekey (new ESP SAs; with `dh`, a new DH secret too). Ignored while one runs. */
export function requestRekey<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number, dh: boolean): boolean {
  if (!canUpdate(a) || a.update.rekey || a.update.wants.some((w) => w.kind === 'rekey')) return false;
  queue(a, { kind: 'rekey', dh });
  pumpWants(ctx, a, now);
  return true;
}

/**
 * Start a return-routability check of `locator` (ESP from an address we do not use yet).
 * Does nothing if that locator is being checked already or the table is full. With `preempt`
 * (the default) an outstanding announce or probe is cancelled and sent again after the check.
 */
export function checkLocator<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, locator: L, announced: boolean, now: number, preempt = true): void {
  if (!canUpdate(a) || locator.key === a.locator.key) return;
  const p = a.paths.candidate(locator, announced, now);
  if (!p || p.nonce) return;
  if (a.update.out?.purpose === 'verify' && a.update.out.pathKey === locator.key) return;
  queue(a, { kind: 'verify', locator });
  if (preempt && a.update.out && a.update.out.purpose !== 'rekey' && a.update.out.purpose !== 'verify') {
    cancelOutstanding(a);
    // The check goes first: the cancelled work was put back at the front of the queue.
    const w = a.update.wants;
    w.unshift(...w.splice(w.findIndex((x) => x.kind === 'verify' && x.locator.key === locator.key), 1));
  }
  pumpWants(ctx, a, now);
}

/**
 * Probe the current path: an UPDATE with only SEQ, which the peer must ACK. `probe` (liveness)
 * reports a dead path when unanswered; `loss` (data sent, nothing heard) reports the peer lost.
 */
export function probePath<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number, kind: 'probe' | 'loss' = 'probe'): void {
  if (!canUpdate(a) || a.update.out || a.update.wants.length > 0) return;
  queue(a, { kind });
  pumpWants(ctx, a, now);
}

/**
 * Ask a registrar with which we have an association for `request` (a REG_REQUEST: renewal,
 * change, or lifetime 0 to cancel) in an UPDATE. The answer comes as a `registration` event
 * (from the registry, as for an R2). False when the association cannot send UPDATEs.
 */
export function requestRegistration<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, request: HipParam, now: number): boolean {
  if (!canUpdate(a)) return false;
  queue(a, { kind: 'register', request });
  pumpWants(ctx, a, now);
  return true;
}

function cancelOutstanding<L extends PeerLocator>(a: Association<L>): void {
  const o = a.update.out;
  if (!o) return;
  // Cancelled work is asked for again (after anything newer of its kind), never silently lost.
  // `request`, `pathKey` and `addresses` are each set only for their purpose.
  if (o.request && !a.update.wants.some((w) => w.kind === 'register')) {
    a.update.wants.unshift({ kind: 'register', request: o.request });
  }
  if (o.pathKey) {
    // (A check whose path became active meanwhile is skipped when its turn comes.)
    const p = a.paths.get(o.pathKey);
    if (p) {
      p.nonce = undefined;
      queue(a, { kind: 'verify', locator: p.locator });
    }
  }
  if (o.addresses && !a.update.wants.some((w) => w.kind === 'announce')) {
    a.update.wants.unshift({ kind: 'announce', addresses: o.addresses, ...(o.ports ? { ports: o.ports } : {}) });
  }
  a.update.out = undefined;
  a.update.timerAt = undefined;
}

function pumpWants<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  const u = a.update;
  while (!u.out && u.wants.length > 0 && canUpdate(a)) {
    const w = u.wants.shift()!;
    switch (w.kind) {
      case 'announce':
        sendOwn(ctx, a, 'announce', [espInfoSame(a), locatorSet(a, w.addresses, w.ports)], a.locator, now);
        u.out!.addresses = w.addresses;
        if (w.ports) u.out!.ports = w.ports;
        break;
      case 'verify': {
        const p = a.paths.candidate(w.locator, false, now);
        if (!p || p.state === 'active') break;
        p.nonce = ctx.random(echoLength(a.version));
        sendOwn(ctx, a, 'verify', [{ type: ParamType.ECHO_REQUEST_SIGNED, opaque: p.nonce }], p.locator, now, p.locator.key);
        break;
      }
      case 'rekey': {
        const r = w.answer ? u.rekey : startRekey(ctx, a, w.dh);
        if (!r) break;
        sendOwn(ctx, a, 'rekey', rekeyParams(a, r), a.locator, now);
        break;
      }
      case 'probe':
        sendOwn(ctx, a, 'probe', [], a.locator, now);
        break;
      case 'loss':
        // SEQ alone must be acknowledged (RFC 7401 §6.11), but hipd answers only the UPDATE
        // shapes of its readdress exchange; with an echo request this is the shape of a
        // return-routability check, which it answers with ACK and ECHO_RESPONSE_SIGNED.
        sendOwn(ctx, a, 'loss', [{ type: ParamType.ECHO_REQUEST_SIGNED, opaque: ctx.random(echoLength(a.version)) }], a.locator, now);
        break;
      case 'register':
        sendOwn(ctx, a, 'register', [w.request], a.locator, now);
        u.out!.request = w.request;
        break;
    }
  }
}

function espInfoSame<L extends PeerLocator>(a: Association<L>): HipParam {
  const spi = a.sa!.localSpi;
  return { type: ParamType.ESP_INFO, reserved: 0, keymatIndex: a.hipKeys!.keymatNext, oldSpi: spi, newSpi: spi };
}

function locatorSet<L extends PeerLocator>(a: Association<L>, addresses: Uint8Array[], ports?: number[]): HipParam {
  const spi = a.sa!.localSpi;
  const locators: Locator[] = addresses.map((address, i) => {
    const port = ports?.[i];
    // A transport candidate (RFC 9028): server-reflexive, priority by order.
    const v =
      port !== undefined
        ? encodeLocatorValue({ locatorType: LocatorType.TRANSPORT, port, protocol: 17, kind: 1, priority: 0x7fff_ffff - i, spi, address })
        : encodeLocatorValue({ locatorType: LocatorType.ESP_SPI_ADDRESS, spi, address });
    return { trafficType: LocatorTrafficType.BOTH, locatorType: v.locatorType, preferred: i === 0, reserved: 0, lifetime: LOCATOR_LIFETIME_S, value: v.value };
  });
  return { type: ParamType.LOCATOR_SET, locators };
}

function dhParam<L extends PeerLocator>(_a: Association<L>, dh: DhKeyPair): HipParam {
  return { type: ParamType.DIFFIE_HELLMAN, values: [{ group: dh.group, publicValue: dh.publicValue }] };
}

/** Our ESP_INFO for a rekey (OLD = the SPI the peer sends to now), and our new DH value if any. */
function rekeyParams<L extends PeerLocator>(a: Association<L>, r: Rekey): HipParam[] {
  const params: HipParam[] = [{ type: ParamType.ESP_INFO, reserved: 0, keymatIndex: r.index, oldSpi: a.sa!.localSpi, newSpi: r.newLocalSpi }];
  if (r.dh) params.push(dhParam(a, r.dh));
  return params;
}

function startRekey<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, dh: boolean): Rekey | undefined {
  const group = a.dhGroup ?? (a.version === 1 ? ctx.config.dhGroupsV1[0] : ctx.config.dhGroups[0]);
  const r: Rekey = {
    newLocalSpi: ctx.allocateSpi(),
    // With a new DH secret the KEYMAT starts over at 0 (RFC 7402 §6.9).
    index: dh ? 0 : a.hipKeys!.keymatNext,
    peer: undefined,
    acked: false,
    dh: dh && group !== undefined ? newDhKey(ctx.provider, ctx.random, group) : undefined,
    peerDh: undefined,
  };
  a.update.rekey = r;
  return r;
}

/** Seal and send an UPDATE of ours that carries SEQ (so it waits for an ACK and is retransmitted). */
function sendOwn<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L>,
  purpose: UpdatePurpose,
  params: HipParam[],
  to: L,
  now: number,
  pathKey?: string,
  ack?: number,
): void {
  const u = a.update;
  const seq = u.nextSeq;
  u.nextSeq = (u.nextSeq + 1) >>> 0;
  const all: HipParam[] = [...params, { type: ParamType.SEQ, updateId: seq }];
  if (ack !== undefined) all.push({ type: ParamType.ACK, updateIds: [ack] });
  const packet = seal(ctx, a, all);
  u.out = { seq, packet, to, retries: 0, purpose, pathKey };
  u.timerAt = now + backoff(ctx.config.retransmit, 0);
  send(ctx, a, packet, to, now);
}

function seal<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, params: HipParam[]): Uint8Array {
  return sealForPeer(ctx, a, PacketType.UPDATE, [...params].sort((x, y) => x.type - y.type));
}

function send<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, packet: Uint8Array, to: L, now: number): void {
  a.lastSent = now;
  ctx.transmit({ to, packet, packetType: PacketType.UPDATE, version: a.version });
}

/** The retransmission timer of the outstanding UPDATE fired. */
export function onUpdateTimer<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  const u = a.update;
  const o = u.out;
  u.timerAt = undefined;
  if (!o) return;
  if (o.round && o.round.next < o.round.targets.length) return nextInRound(ctx, a, o, now);
  // A registration UPDATE has a fallback (a fresh base exchange with the server, which may have
  // restarted and forgotten us): no need to wait out the whole schedule, as for a loss probe.
  const bounded = o.purpose === 'loss' || o.purpose === 'register';
  const retries = bounded ? Math.min(LOSS_PROBE_RETRIES, ctx.config.retransmit.updateRetries) : ctx.config.retransmit.updateRetries;
  if (o.retries >= retries) {
    u.out = undefined;
    giveUp(ctx, a, o);
    pumpWants(ctx, a, now);
    return;
  }
  o.retries++;
  // A readdress that went unanswered may be lost, or the peer gone from its current address:
  // the retransmission is a round to its other known locators as well (shotgun). Any other
  // UPDATE is retransmitted where it went: a round of one.
  const targets = o.purpose === 'announce' ? updateTargets(a, o.to) : [o.to];
  o.round = { targets, next: 0, at: now };
  nextInRound(ctx, a, o, now);
}

/** Send the next UPDATE of a retransmission round; arm the timer for the one after, or the next round. */
function nextInRound<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, o: Outstanding<L>, now: number): void {
  const r = o.round!;
  send(ctx, a, o.packet, r.targets[r.next++]!, now);
  a.update.timerAt = r.next < r.targets.length ? now + SHOTGUN_PACE_MS : r.at + backoff(ctx.config.retransmit, o.retries);
}

function giveUp<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, o: Outstanding<L>): void {
  switch (o.purpose) {
    case 'verify':
      // Nobody answered at that address: it never gets data (the replayed-packet case).
      if (o.pathKey) abandonCheck(a, o.pathKey);
      return;
    case 'rekey':
      if (a.update.rekey) ctx.releaseSpi(a.update.rekey.newLocalSpi);
      a.update.rekey = undefined;
      ctx.emit({ type: 'path', peerHit: a.peerHit, state: 'dead', locator: a.locator, detail: 'rekey UPDATE not acknowledged' });
      return;
    case 'register':
      ctx.registry.unanswered(ctx, a.peerHit, 'registration UPDATE not acknowledged');
      return;
    case 'loss':
      return peerLost(ctx, a);
    case 'announce':
    case 'probe':
      a.pathDead = true;
      ctx.emit({ type: 'path', peerHit: a.peerHit, state: 'dead', locator: a.locator, detail: `${o.purpose} UPDATE not acknowledged` });
      return;
  }
}

/** Handle a received UPDATE. */
export function handleUpdate<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): void {
  const a = ctx.associations.get(hitKey(pkt.senderHit));
  if (!a) return ctx.drop('no-association', pkt.type, pkt.senderHit);
  if (!canUpdate(a) || pkt.version !== a.version) return ctx.drop('wrong-state', pkt.type, pkt.senderHit);
  if (!bytesEqual(pkt.receiverHit, a.localHit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  const seq = getParam(pkt, ParamType.SEQ);
  const ack = getParam(pkt, ParamType.ACK);
  if (!seq && !ack) return ctx.drop('missing-parameter', pkt.type, pkt.senderHit, 'UPDATE without SEQ or ACK');
  if (!authentic(ctx, a, pkt, raw)) return;
  const u = a.update;

  // A retransmission of the peer's last UPDATE: our answer was lost, send it again (no new state).
  if (seq && u.peerSeq !== undefined && seq.updateId === u.peerSeq) {
    if (u.reply) send(ctx, a, u.reply, from, now);
    return ctx.drop('duplicate', pkt.type, pkt.senderHit, `UPDATE ${seq.updateId} again`);
  }
  if (seq && u.peerSeq !== undefined && !seqAfter(seq.updateId, u.peerSeq)) {
    return ctx.drop('duplicate', pkt.type, pkt.senderHit, `stale UPDATE ${seq.updateId}`);
  }

  if (a.state === HipState.R2_SENT) {
    a.confirm();
    armIdle(ctx, a, now);
  }
  // Proof of life, but not activity: the idle timer (UAL) follows data only, so keepalives and
  // probes never keep an unused association open.
  alive(ctx, a, raw.length, now);

  const echoResponse = getParam(pkt, ParamType.ECHO_RESPONSE_SIGNED);
  if (echoResponse) {
    const p = a.paths.byNonce(echoResponse.opaque);
    if (p) activatePath(ctx, a, p, now);
  }
  if (ack && u.out && ack.updateIds.includes(u.out.seq)) {
    const purpose = acknowledged(a).purpose;
    // The answer to a REG_REQUEST rides on the UPDATE that acknowledges it (RFC 8003 §3.3).
    if (purpose === 'register') ctx.registry.result(ctx, pkt, a, now);
    if (purpose === 'announce') ctx.emit({ type: 'readdressed', peerHit: a.peerHit, mover: 'self' });
  }
  notePeerEspInfo(a, pkt);

  if (seq) answer(ctx, a, pkt, seq.updateId, from, now);
  checkCandidates(ctx, a, pkt, from, now);
  prepareRekey(ctx, a);
  finishRekey(ctx, a);
  // Authentic, but from an address we do not use and without a LOCATOR_SET (a rebound peer's
  // probe or rekey): check that address as we would for ESP from there.
  if (from.key !== a.locator.key && !getParam(pkt, ParamType.LOCATOR_SET)) checkLocator(ctx, a, from, false, now);
  pumpWants(ctx, a, now);
}

function acknowledged<L extends PeerLocator>(a: Association<L>): Outstanding<L> {
  const o = a.update.out!;
  a.update.out = undefined;
  a.update.timerAt = undefined;
  if (o.purpose === 'rekey' && a.update.rekey) a.update.rekey.acked = true;
  return o;
}

/** Process a new peer UPDATE that carries SEQ, and answer it. */
function answer<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, pkt: HipPacket, peerSeq: number, from: L, now: number): void {
  const u = a.update;
  u.peerSeq = peerSeq;
  const espInfo = getParam(pkt, ParamType.ESP_INFO);
  const locators = getParam(pkt, ParamType.LOCATOR_SET);
  const echoRequest = getParam(pkt, ParamType.ECHO_REQUEST_SIGNED);
  const dh = getParam(pkt, ParamType.DIFFIE_HELLMAN);
  const extra: HipParam[] = [];
  if (echoRequest) extra.push({ type: ParamType.ECHO_RESPONSE_SIGNED, opaque: echoRequest.opaque });
  // A client renewing or cancelling its registration (RFC 8003 §3.3): the answer goes in our
  // reply, so a retransmitted request gets the same answer and is not granted twice.
  if (getParam(pkt, ParamType.REG_REQUEST)) extra.push(...ctx.registry.answer(ctx, pkt, a, now, from));

  // ESP_INFO first (RFC 8046 §5.2): OLD != NEW with OLD = the SPI we send to is a rekey.
  let rekeyAnswer: HipParam[] | undefined;
  if (espInfo && espInfo.oldSpi !== espInfo.newSpi && espInfo.oldSpi === a.sa!.peerSpi && espInfo.newSpi !== 0) {
    rekeyAnswer = peerRekey(ctx, a, espInfo.newSpi, espInfo.keymatIndex, dh?.values[0]);
  }
  // Only one UPDATE of ours may wait for its ACK (RFC 7401 §6.11): with another outstanding, the
  // request gets a plain ACK now and our ESP_INFO follows in an UPDATE of ours once that one is
  // done. The requester takes its ESP_INFO from there (notePeerEspInfo); were the answer dropped,
  // its rekey, acknowledged but without our ESP_INFO, would never finish. (Called only with an
  // UPDATE of ours outstanding.)
  const deferRekeyAnswer = (): void => {
    if (rekeyAnswer) queue(a, { kind: 'rekey', dh: false, answer: true });
  };

  // A LOCATOR_SET from an address we do not use: the peer moved there. Check it before use; the
  // source address is what counts behind a NAT (RFC 5770 §5.x), the set itself is informational.
  // A set of transport candidates (RFC 9028) is no move: its addresses get connectivity checks.
  const moved = locators !== undefined && from.key !== a.locator.key && !locators.locators.some((l) => l.locatorType === LocatorType.TRANSPORT);
  if (moved) {
    const p = a.paths.candidate(from, true, now);
    if (p && !p.nonce && !(u.out?.purpose === 'verify' && u.out.pathKey === from.key)) {
      if (u.out && u.out.purpose !== 'rekey') cancelOutstanding(a);
      if (!u.out) {
        p.nonce = ctx.random(echoLength(a.version));
        const params: HipParam[] = [...extra, { type: ParamType.ECHO_REQUEST_SIGNED, opaque: p.nonce }];
        if (espInfo && espInfo.oldSpi === espInfo.newSpi) params.push(espInfoSame(a));
        sendOwn(ctx, a, 'verify', params, from, now, from.key, peerSeq);
        u.reply = u.out!.packet;
        deferRekeyAnswer();
        return;
      }
      queue(a, { kind: 'verify', locator: from });
    }
  }

  if (rekeyAnswer && !u.out) {
    sendOwn(ctx, a, 'rekey', [...extra, ...rekeyAnswer], from, now, undefined, peerSeq);
    u.reply = u.out!.packet;
    return;
  }
  deferRekeyAnswer();
  // Nothing of ours to ask now: a plain ACK (no SEQ, so never retransmitted by us).
  const reply = seal(ctx, a, [...extra, { type: ParamType.ACK, updateIds: [peerSeq] }]);
  u.reply = reply;
  send(ctx, a, reply, from, now);
}

/** The peer asks for a rekey: pick our new SPI (and DH key), return our ESP_INFO (+ DH). */
function peerRekey<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L>,
  peerNewSpi: number,
  peerIndex: number,
  peerDh: { group: number; publicValue: Uint8Array } | undefined,
): HipParam[] | undefined {
  const u = a.update;
  // Both ends rekeying at once: each request carries the ESP_INFO the other end needs
  // (notePeerEspInfo), so a plain ACK answers it.
  if (u.rekey) return undefined;
  const groups = a.version === 1 ? ctx.config.dhGroupsV1 : ctx.config.dhGroups;
  if (peerDh && !groups.includes(peerDh.group)) return undefined;
  const r: Rekey = {
    newLocalSpi: ctx.allocateSpi(),
    index: peerDh ? 0 : Math.max(peerIndex, a.hipKeys!.keymatNext),
    peer: { newSpi: peerNewSpi, index: peerIndex },
    acked: false,
    dh: peerDh ? newDhKey(ctx.provider, ctx.random, peerDh.group) : undefined,
    peerDh: peerDh?.publicValue.slice(),
  };
  u.rekey = r;
  return rekeyParams(a, r);
}

/** The rekey initiator learns the peer's ESP_INFO from its answer. */
function notePeerEspInfo<L extends PeerLocator>(a: Association<L>, pkt: HipPacket): void {
  const r = a.update.rekey;
  const espInfo = getParam(pkt, ParamType.ESP_INFO);
  if (!r || r.peer || !espInfo || espInfo.oldSpi === espInfo.newSpi || espInfo.newSpi === 0) return;
  if (espInfo.oldSpi !== a.sa!.peerSpi) return;
  r.peer = { newSpi: espInfo.newSpi, index: espInfo.keymatIndex };
  const dh = getParam(pkt, ParamType.DIFFIE_HELLMAN);
  if (dh?.values[0]) r.peerDh = dh.values[0].publicValue.slice();
}

/**
 * Both ESP_INFOs known: derive the new SA pair and announce its inbound half (`rekey-inbound`),
 * so the driver can receive on it before the peer switches: the peer may send on it before our
 * ACK reaches it.
 */
function prepareRekey<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>): void {
  const r = a.update.rekey;
  if (!r || !r.peer || r.sa || (r.dh && !r.peerDh)) return;
  const keys = a.hipKeys!;
  let kij: Uint8Array | undefined;
  if (r.dh && r.peerDh) {
    try {
      kij = ctx.provider.dhCompute(r.dh, r.peerDh);
    } catch (e) {
      a.update.rekey = undefined;
      ctx.releaseSpi(r.newLocalSpi);
      return ctx.drop('bad-dh', PacketType.UPDATE, a.peerHit, errorText(e));
    }
  }
  const index = kij ? 0 : Math.max(r.index, r.peer.index);
  const esp = keys.espKeysAt(index, kij);
  const setLength = esp.outbound.enc.length + esp.outbound.auth.length + esp.inbound.enc.length + esp.inbound.auth.length;
  r.keys = { ...keys, keymatNext: index + setLength, ...(kij ? { espKeysAt: rebased(keys.espKeysAt, kij) } : {}) };
  r.sa = { suite: a.sa!.suite, localSpi: r.newLocalSpi, peerSpi: r.peer.newSpi, keymatIndex: index, ...esp };
  ctx.emit({ type: 'rekey-inbound', peerHit: a.peerHit, sa: r.sa });
}

/** Both halves done (peer's ESP_INFO seen, our UPDATE acknowledged): switch to the new SA pair. */
function finishRekey<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>): void {
  const r = a.update.rekey;
  if (!r || !r.sa || !r.keys || !r.acked) return;
  a.update.rekey = undefined;
  const old = a.sa!;
  a.hipKeys = r.keys;
  a.sa = r.sa;
  ctx.releaseSpi(old.localSpi);
  ctx.emit({ type: 'rekeyed', peerHit: a.peerHit, sa: a.sa, previousLocalSpi: old.localSpi });
}

/** After a DH rekey, later rekeys draw from the KEYMAT of the new secret. */
function rebased(
  espKeysAt: (index: number, kij?: Uint8Array) => ReturnType<NonNullable<Association<PeerLocator>['hipKeys']>['espKeysAt']>,
  kij: Uint8Array,
): typeof espKeysAt {
  return (index, newer) => espKeysAt(index, newer ?? kij);
}

/** Authenticated traffic from the peer: credit for announced paths, and the path is alive. */
export function alive<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, bytes: number, now: number): void {
  a.lastReceived = now;
  a.unansweredSince = undefined;
  a.paths.earn(bytes, now);
  if (a.pathDead) {
    a.pathDead = false;
    ctx.emit({ type: 'path', peerHit: a.peerHit, state: 'alive', locator: a.locator });
  }
}
