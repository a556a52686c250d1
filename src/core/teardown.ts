/**
 * Ending associations (CLOSE / CLOSE_ACK, RFC 7401 5.3.7-5.3.8) and NOTIFY handling.
 * @module
 */
import { bytesEqual } from '../bytes.js';
import { getParam, PacketType, ParamType, type HipPacket, type HipParam } from '../wire/index.js';
import { HipState, type Association } from './association.js';
import { hitKey, type EngineContext } from './context.js';
import { forget } from './lifecycle.js';
import type { PeerLocator } from './events.js';
import { checkMac, sealPacket, verifySigned } from './sealing.js';
import { backoff } from './timers.js';

/** Bytes of the CLOSE echo nonce (libhipl uses 4; more costs nothing). */
const CLOSE_NONCE_LENGTH = 16;

/** A packet to an associated peer, protected by HIP_MAC and HIP_SIGNATURE (CLOSE, CLOSE_ACK, UPDATE). */
export function sealForPeer<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, type: number, params: HipParam[]): Uint8Array {
  const me = ctx.local(a.version)!;
  return sealPacket(
    ctx.provider,
    { version: a.version, type, controls: 0, checksum: 0, senderHit: a.localHit, receiverHit: a.peerHit, params },
    { type: ParamType.HIP_MAC, hash: a.hipKeys!.macHash, key: a.hipKeys!.macOut },
    { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
  );
}

/** Send CLOSE and enter CLOSING (the application closed, or the UAL timer fired). */
export function startClose<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  a.closeNonce = ctx.random(a.version === 1 ? 4 : CLOSE_NONCE_LENGTH);
  a.pending = sealForPeer(ctx, a, PacketType.CLOSE, [{ type: ParamType.ECHO_REQUEST_SIGNED, opaque: a.closeNonce }]);
  a.pendingType = PacketType.CLOSE;
  a.retries = 0;
  a.state = HipState.CLOSING;
  ctx.transmit({ to: a.locator, packet: a.pending, packetType: PacketType.CLOSE, version: a.version });
  a.setTimer('retransmit', now + backoff(ctx.config.retransmit, 0));
}

/** Drop an association and everything it holds. */
export function discard<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>): void {
  a.clearTimer();
  a.state = HipState.UNASSOCIATED;
  forget(ctx, a);
  if (a.sa) ctx.releaseSpi(a.sa.localSpi);
}

/** Check HIP_MAC (first: cheap) and HIP_SIGNATURE of a packet from an associated peer; drops count. */
export function authentic<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, pkt: HipPacket, raw: Uint8Array): boolean {
  const mac = getParam(pkt, ParamType.HIP_MAC);
  const sig = getParam(pkt, ParamType.HIP_SIGNATURE);
  if (!mac || !sig || !a.hipKeys || !a.peer) {
    ctx.drop('missing-parameter', pkt.type, pkt.senderHit);
    return false;
  }
  if (!checkMac(ctx.provider, raw, mac.mac, { type: ParamType.HIP_MAC, hash: a.hipKeys.macHash, key: a.hipKeys.macIn })) {
    ctx.drop('bad-mac', pkt.type, pkt.senderHit);
    return false;
  }
  if (!verifySigned(ctx.provider, raw, sig, a.peer)) {
    ctx.drop('bad-signature', pkt.type, pkt.senderHit);
    return false;
  }
  return true;
}

const CLOSE_STATES: readonly string[] = [HipState.ESTABLISHED, HipState.I2_SENT, HipState.R2_SENT, HipState.CLOSING, HipState.CLOSED];

/** Handle a CLOSE: answer with CLOSE_ACK (echoing the nonce) and enter CLOSED. */
export function handleClose<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): void {
  const a = ctx.associations.get(hitKey(pkt.senderHit));
  if (!a) return ctx.drop('no-association', pkt.type, pkt.senderHit);
  if (!CLOSE_STATES.includes(a.state) || pkt.version !== a.version) return ctx.drop('wrong-state', pkt.type, pkt.senderHit);
  if (!bytesEqual(pkt.receiverHit, a.localHit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  if (pkt.controls !== 0) return ctx.drop('controls', pkt.type, pkt.senderHit);
  const echo = getParam(pkt, ParamType.ECHO_REQUEST_SIGNED);
  if (!echo) return ctx.drop('missing-parameter', pkt.type, pkt.senderHit);
  if (!authentic(ctx, a, pkt, raw)) return;
  const ack = sealForPeer(ctx, a, PacketType.CLOSE_ACK, [{ type: ParamType.ECHO_RESPONSE_SIGNED, opaque: echo.opaque }]);
  ctx.transmit({ to: from, packet: ack, packetType: PacketType.CLOSE_ACK, version: a.version });
  const wasOpen = a.state !== HipState.CLOSED;
  if (a.state === HipState.CLOSING) {
    // Both ends closed at once: our CLOSE's answer no longer matters.
    discard(ctx, a);
  } else {
    a.state = HipState.CLOSED;
    a.pending = undefined;
    a.setTimer('linger', now + ctx.config.closedLingerMs);
  }
  if (wasOpen) ctx.emit({ type: 'closed', peerHit: a.peerHit, by: 'peer' });
}

/** Handle a CLOSE_ACK: it must echo our nonce; then the association is gone. */
export function handleCloseAck<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array): void {
  const a = ctx.associations.get(hitKey(pkt.senderHit));
  if (!a) return ctx.drop('no-association', pkt.type, pkt.senderHit);
  if (a.state !== HipState.CLOSING || pkt.version !== a.version) return ctx.drop('wrong-state', pkt.type, pkt.senderHit);
  if (!bytesEqual(pkt.receiverHit, a.localHit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  const echo = getParam(pkt, ParamType.ECHO_RESPONSE_SIGNED);
  if (!echo || !a.closeNonce || !bytesEqual(echo.opaque, a.closeNonce)) return ctx.drop('bad-echo', pkt.type, pkt.senderHit);
  if (!authentic(ctx, a, pkt, raw)) return;
  discard(ctx, a);
  ctx.emit({ type: 'closed', peerHit: a.peerHit, by: a.closeReason });
}

/**
 * Handle a NOTIFY: report it; it never changes state (RFC 7401 5.3.5). From a peer whose key we
 * know it must carry a valid signature; from anyone else it cannot be authenticated and is
 * reported with `authentic: false` (it explains a stalled BEX, nothing more).
 */
export function handleNotify<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array): void {
  const a = ctx.associations.get(hitKey(pkt.senderHit));
  const sig = getParam(pkt, ParamType.HIP_SIGNATURE);
  let authentic = false;
  if (a?.peer) {
    if (!sig) return ctx.drop('missing-parameter', pkt.type, pkt.senderHit, 'unsigned NOTIFY from a peer whose key we know');
    if (!bytesEqual(pkt.receiverHit, a.localHit) || !verifySigned(ctx.provider, raw, sig, a.peer)) {
      return ctx.drop('bad-signature', pkt.type, pkt.senderHit);
    }
    authentic = true;
  }
  for (const p of pkt.params) {
    if (p.type === ParamType.NOTIFICATION && 'notifyType' in p) {
      ctx.emit({ type: 'notify', peerHit: pkt.senderHit, notifyType: p.notifyType, data: p.data, authentic });
    }
  }
}

