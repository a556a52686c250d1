/**
 * Peer loss: a peer that restarted (same identity, same address, state lost) and now drops our
 * ESP and UPDATEs for an SPI and association it does not know, silently, as libhipl and hipl
 * itself do. Nothing on the wire says so; the only sign is silence. The rule:
 *
 * - Data we send starts a clock (`unansweredSince`); any authenticated packet from the peer (ESP,
 *   UPDATE) stops it. A peer that talks back, or a stream that is acknowledged, never gets here.
 * - When the clock reaches `peerLossMs`, the peer is probed with an UPDATE carrying SEQ and
 *   ECHO_REQUEST_SIGNED, which a live peer must acknowledge (RFC 7401 §6.11; the echo makes it
 *   the shape hipd answers too), so a live but quiet peer answers, is
 *   heard, and the clock stops until we send again: one signed UPDATE and its ACK per
 *   `peerLossMs` of one-way sending.
 * - An unanswered probe (after `LOSS_PROBE_RETRIES` retransmissions) means the peer lost
 *   the association: the engine drops it and emits `peer-lost`, with the time the peer was last
 *   heard, so the driver can run the BEX again (RFC 7401 §6.x: a host that lost its state takes
 *   part in a new base exchange) and resend what it sent since then.
 * @module
 */
import type { Association } from './association.js';
import { HipState } from './association.js';
import type { EngineConfig } from './config.js';
import type { EngineContext } from './context.js';
import type { PeerLocator } from './events.js';
import { discard } from './teardown.js';

/** We sent the peer data: start the loss clock unless it runs already. */
export function dataSent<L extends PeerLocator>(a: Association<L>, now: number): void {
  if (a.state === HipState.ESTABLISHED && a.unansweredSince === undefined) a.unansweredSince = now;
}

/**
 * When the association needs a loss probe: `peerLossMs` after the first unanswered data, unless
 * an UPDATE of ours is in flight or waiting (its answer, or its failure, tells us as much).
 */
export function lossProbeAt<L extends PeerLocator>(config: EngineConfig, a: Association<L>): number | undefined {
  const ms = config.peerLossMs;
  if (ms <= 0 || a.state !== HipState.ESTABLISHED || a.unansweredSince === undefined || a.update.out || a.update.wants.length > 0) return undefined;
  return a.unansweredSince + ms;
}

/** The loss probe went unanswered: forget the association and tell the driver. */
export function peerLost<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>): void {
  const { peerHit, locator, version, lastReceived } = a;
  discard(ctx, a);
  ctx.emit({ type: 'peer-lost', peerHit, locator, version, lastHeard: lastReceived });
}
