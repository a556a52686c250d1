/**
 * The life of an association as the engine reports it: BEX step events, entering ESTABLISHED,
 * the idle timer, failure; plus small helpers both BEX roles share.
 * @module
 */
import { compareBytes } from '../bytes.js';
import { ZERO_HIT } from '../crypto/hit.js';
import { HipError } from '../errors.js';
import { HipState, type Association } from './association.js';
import { hitKey, type EngineContext } from './context.js';
import { PathTable } from './paths.js';
import type { BexStep, FailureReason, PeerLocator } from './events.js';

/** Emit a `bex` step event. */
export function bexEvent<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L> | undefined,
  step: BexStep,
  packetType: number,
  now: number,
  retransmission: boolean,
  peerHit?: Uint8Array,
): void {
  ctx.emit({
    type: 'bex',
    step,
    peerHit: peerHit ?? a?.peerHit ?? ZERO_HIT,
    packetType,
    elapsedMs: a ? now - a.startedAt : 0,
    retransmission,
  });
}

/** Enter ESTABLISHED (or R2-SENT for the responder) and tell the driver the SA keys. */
export function establish<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  a.state = a.role === 'initiator' ? HipState.ESTABLISHED : HipState.R2_SENT;
  a.pending = undefined;
  a.solving = undefined;
  a.retries = 0;
  a.lastActivity = now;
  a.lastReceived = now;
  a.dhGroup = a.dh?.group ?? a.dhGroup;
  a.dh = undefined;
  // Only the R2's HIP_MAC_2 needed the R1's HOST_ID; a later R2 is dropped as a duplicate.
  a.r1HostIdTlv = undefined;
  // The locator the BEX ended on is the verified one: the peer answered there.
  a.paths = new PathTable(a.locator, now);
  if (a.role === 'initiator') armIdle(ctx, a, now);
  else a.setTimer('dwell', now + ctx.config.r2SentDwellMs);
  ctx.stats.established++;
  ctx.emit({
    type: 'established',
    peerHit: a.peerHit,
    localHit: a.localHit,
    version: a.version,
    role: a.role,
    peerLocator: a.locator,
    sa: a.sa!,
    elapsedMs: now - a.startedAt,
  });
}

/** Arm the idle (UAL) timer of an established association. */
export function armIdle<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  if (ctx.config.idleTimeoutMs > 0) a.setTimer('idle', now + ctx.config.idleTimeoutMs);
  else a.clearTimer();
}

/** Fail an association: E-FAILED, event, and the association is removed. */
export function fail<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L>,
  reason: FailureReason,
  detail?: string,
): void {
  a.state = HipState.E_FAILED;
  a.clearTimer();
  forget(ctx, a);
  if (a.sa) ctx.releaseSpi(a.sa.localSpi);
  ctx.stats.failed++;
  ctx.emit(detail === undefined ? { type: 'failed', peerHit: a.peerHit, reason } : { type: 'failed', peerHit: a.peerHit, reason, detail });
}

/** The map key under which an opportunistic BEX waits for its R1: the zero HIT plus the locator. */
export function opportunisticKey(l: PeerLocator): Uint8Array {
  // A zero-HIT association is keyed by locator, so several opportunistic BEXes can run at once.
  const enc = new TextEncoder().encode(`opp:${l.key}`);
  return enc;
}

/**
 * Take an association out of the table, wherever it is filed: under its peer's HIT, or (an
 * opportunistic BEX still waiting for its R1, whose peer HIT is zero) under the
 * {@link opportunisticKey} of the locator it was started with. Only `a` itself is removed,
 * never another association filed under the same HIT since.
 */
export function forget<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>): void {
  const key = hitKey(a.peerHit);
  if (ctx.associations.get(key) === a) {
    ctx.associations.delete(key);
    return;
  }
  // Not under its HIT: an opportunistic BEX (rare; the table is bounded).
  for (const [k, v] of ctx.associations) {
    if (v === a) {
      ctx.associations.delete(k);
      return;
    }
  }
}

/** Text of an unknown thrown value. */
export function errorText(e: unknown): string {
  return e instanceof HipError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}

/** Is `a` greater than `b` as unsigned 128-bit integers. */
export function hitGreater(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) > 0;
}
