/**
 * Shotgun (HIPL manual, chapter 11): the I1 of a base exchange goes to every known locator of the
 * peer (its addresses, its rendezvous or relay servers), not only the first, so that one dead
 * address or one crashed server does not stop contact; the first R1 wins (handleR1 takes it from
 * wherever it comes, and a later one finds the exchange past I1-SENT).
 *
 * Bounded and paced: at most {@link SHOTGUN_LOCATORS} locators, sent one after the other
 * {@link SHOTGUN_PACE_MS} apart (a round), and one round per retransmission timeout, with the
 * usual backoff. HIPL sent only its first I1 this way; we repeat every round, since the first I1
 * to the live locator may be the one that is lost.
 *
 * The same for a readdress UPDATE (ours, with LOCATOR_SET: "UPDATE-with-locator", which HIPL's
 * shotgun never did): the first goes to the peer's current locator; each retransmission is a
 * round to that one and the peer's other known locators (the ones it announced, then the ones
 * we dialled), so both ends moving at once (a double jump) or the peer's current address dying
 * does not lose contact while another of its addresses works.
 * @module
 */
import { PacketType } from '../wire/index.js';
import { HipState, type Association } from './association.js';
import type { EngineContext } from './context.js';
import type { PeerLocator } from './events.js';
import { backoff } from './timers.js';

/** At most this many locators of a peer get each round of I1s. */
export const SHOTGUN_LOCATORS = 3;
/** Gap between two I1s of one round, ms: a burst to several servers at once is not needed. */
export const SHOTGUN_PACE_MS = 20;

/** Where a round of I1s goes: the first candidates (the current locator first). */
function targets<L extends PeerLocator>(a: Association<L>): L[] {
  return a.candidates.slice(0, SHOTGUN_LOCATORS);
}

/** Start a round of I1s (the first one, or a retransmission: `a.retries` says which). */
export function startI1Round<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  a.shotgun = { next: 0, roundAt: now };
  nextI1(ctx, a, now);
}

/** The round of I1s is not finished: the retransmission timer sends the next one. */
export function roundPending<L extends PeerLocator>(a: Association<L>): boolean {
  return a.state === HipState.I1_SENT && a.shotgun !== undefined && a.shotgun.next < targets(a).length;
}

/** Send the next I1 of the round, and arm the timer for the one after it, or for the next round. */
export function nextI1<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  const s = a.shotgun;
  const to = targets(a)[s?.next ?? 0];
  if (!s || !to || !a.pending) return;
  s.next++;
  ctx.transmit({ to, packet: a.pending, packetType: PacketType.I1, version: a.version });
  a.setTimer('retransmit', s.next < targets(a).length ? now + SHOTGUN_PACE_MS : s.roundAt + backoff(ctx.config.retransmit, a.retries));
}

/**
 * Sends to `locatorKey` fail (network unreachable): drop it from the candidates. True when none
 * is left, and the exchange should fail.
 */
export function dropCandidate<L extends PeerLocator>(a: Association<L>, locatorKey: string): boolean {
  // Past I1-SENT the exchange runs on one locator: only that one matters.
  if (a.state !== HipState.I1_SENT) return a.locator.key === locatorKey;
  const left = a.candidates.filter((c) => c.key !== locatorKey);
  if (left.length === 0) return true;
  a.candidates = left;
  if (a.locator.key === locatorKey) a.locator = left[0]!;
  return false;
}

/** Where the rounds of a readdress UPDATE go: `first`, then the peer's other known locators. */
export function updateTargets<L extends PeerLocator>(a: Association<L>, first: L): L[] {
  const out: L[] = [first];
  const add = (l: L) => {
    if (!out.some((x) => x.key === l.key)) out.push(l);
  };
  for (const p of a.paths.paths.values()) if (p.announced && p.state !== 'deprecated') add(p.locator);
  for (const c of a.candidates) add(c);
  return out.slice(0, SHOTGUN_LOCATORS);
}
