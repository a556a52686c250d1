/**
 * Where a peer is reached: the ONE place that says so. Every association keeps a small table of
 * the peer's locators with their states (RFC 8046 §5.4: UNVERIFIED, ACTIVE, DEPRECATED), the
 * return-routability nonce of a check in flight, and the credit of RFC 8046 §5.3 that lets data
 * follow a peer that announced a move before its new address is verified.
 *
 * Rules (the host never rewrites an address on its own):
 * - `a.locator` is the current ACTIVE locator; control packets and data both go there.
 * - A new address starts UNVERIFIED. It becomes ACTIVE only when the peer returns the fresh echo
 *   nonce we sent to that address, inside an authenticated UPDATE.
 * - An authentic ESP packet from an unknown address (NAT rebinding, or a replay from a third host)
 *   only starts such a check; it never moves the association.
 * - A peer that announced the address in a signed LOCATOR_SET may receive data there before the
 *   check completes, but never more bytes than it recently sent us (credit-based authorization),
 *   so a liar cannot turn us into an amplifier.
 * @module
 */
import { bytesEqual } from '../bytes.js';
import type { Association } from './association.js';
import type { EngineContext } from './context.js';
import type { PeerLocator } from './events.js';

/** State of one peer locator (RFC 8046 §5.4). */
export type PathState = 'unverified' | 'active' | 'deprecated';

/** One locator of a peer. */
export interface PeerPath<L extends PeerLocator> {
  /** The locator, as the driver gave it. */
  locator: L;
  /** Where it stands. */
  state: PathState;
  /** Echo nonce of the return-routability check in flight to this locator. */
  nonce: Uint8Array | undefined;
  /** The peer named this address itself (signed UPDATE): data may go there on credit. */
  announced: boolean;
  /** When the entry was created or last changed state. */
  since: number;
}

/** At most this many locators are remembered per peer (outsiders can add unverified ones). */
export const MAX_PATHS = 8;
/** Credit ages by {@link CREDIT_AGING_FACTOR} every this many ms (RFC 8046 §5.3.2 suggests 5 s). */
export const CREDIT_AGING_MS = 5000;
/** Factor applied to the credit at each aging step (RFC 8046 §5.3.2: 7/8). */
export const CREDIT_AGING_FACTOR = 7 / 8;
/** Credit never grows beyond this many bytes, whatever the peer sends. */
export const MAX_CREDIT = 1 << 20;

/** The locator table of one association. */
export class PathTable<L extends PeerLocator> {
  /** Paths by locator key, oldest first. */
  readonly paths = new Map<string, PeerPath<L>>();
  /** Bytes we may still send to an announced, unverified locator. */
  credit = 0;
  private creditAt: number;

  constructor(current: L, now: number) {
    this.paths.set(current.key, { locator: current, state: 'active', nonce: undefined, announced: false, since: now });
    this.creditAt = now;
  }

  /** The path with this key, if remembered. */
  get(key: string): PeerPath<L> | undefined {
    return this.paths.get(key);
  }

  /**
   * Remember `locator` as UNVERIFIED (or refresh it). Returns undefined when the table is full of
   * unverified paths, so a flood of forged sources cannot grow it.
   */
  candidate(locator: L, announced: boolean, now: number): PeerPath<L> | undefined {
    const known = this.paths.get(locator.key);
    if (known) {
      if (known.state !== 'active') {
        known.state = 'unverified';
        known.announced ||= announced;
      }
      return known;
    }
    if (this.paths.size >= MAX_PATHS && !this.evictOne()) return undefined;
    const p: PeerPath<L> = { locator, state: 'unverified', nonce: undefined, announced, since: now };
    this.paths.set(locator.key, p);
    return p;
  }

  /** The path whose check is waiting for this nonce. */
  byNonce(nonce: Uint8Array): PeerPath<L> | undefined {
    for (const p of this.paths.values()) if (p.nonce && bytesEqual(p.nonce, nonce)) return p;
    return undefined;
  }

  /** The announced, unverified path data may follow on credit (the newest one). */
  announcedCandidate(): PeerPath<L> | undefined {
    let found: PeerPath<L> | undefined;
    for (const p of this.paths.values()) if (p.state === 'unverified' && p.announced) found = p;
    return found;
  }

  /** Bytes authenticated as coming from the peer: they earn credit (RFC 8046 §5.3.1). */
  earn(bytes: number, now: number): void {
    this.age(now);
    this.credit = Math.min(MAX_CREDIT, this.credit + bytes);
  }

  /** Spend credit for `bytes` sent to an unverified locator; false when there is not enough. */
  spend(bytes: number, now: number): boolean {
    this.age(now);
    if (this.credit < bytes) return false;
    this.credit -= bytes;
    return true;
  }

  private age(now: number): void {
    const steps = Math.floor((now - this.creditAt) / CREDIT_AGING_MS);
    if (steps <= 0) return;
    this.credit = Math.floor(this.credit * CREDIT_AGING_FACTOR ** Math.min(steps, 64));
    this.creditAt += steps * CREDIT_AGING_MS;
  }

  private evictOne(): boolean {
    for (const state of ['deprecated', 'unverified'] as const) {
      for (const [k, p] of this.paths) {
        // A path whose check is in flight stays: its answer may be on the way.
        if (p.state === state && !p.nonce) {
          this.paths.delete(k);
          return true;
        }
      }
    }
    return false;
  }
}

/** Snapshot of one path for inspection (`engine.paths()`). */
export interface PathInfo {
  /** Locator key. */
  key: string;
  /** State. */
  state: PathState;
  /** Whether the peer announced it in a signed LOCATOR_SET. */
  announced: boolean;
  /** Whether a return-routability check is in flight. */
  checking: boolean;
}

/** The paths of an association, current one included. */
export function pathInfo<L extends PeerLocator>(a: Association<L>): PathInfo[] {
  return [...a.paths.paths.values()].map((p) => ({ key: p.locator.key, state: p.state, announced: p.announced, checking: p.nonce !== undefined }));
}

/**
 * The peer returned the nonce we sent to `p`: it is reachable there. `p` becomes ACTIVE and the
 * association's current locator; the previous one is DEPRECATED. Emits `locator`, and
 * `readdressed` when the peer had announced the move.
 */
export function activatePath<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, p: PeerPath<L>, now: number): void {
  p.nonce = undefined;
  if (p.locator.key === a.locator.key) {
    p.state = 'active';
    return;
  }
  const previous = a.locator;
  const old = a.paths.get(previous.key);
  if (old) {
    old.state = 'deprecated';
    old.since = now;
  }
  p.state = 'active';
  p.since = now;
  a.locator = p.locator;
  ctx.emit({ type: 'locator', peerHit: a.peerHit, locator: p.locator, previous });
  if (p.announced) ctx.emit({ type: 'readdressed', peerHit: a.peerHit, mover: 'peer' });
}

/** Forget a check that got no answer: the path stays UNVERIFIED and gets no data. */
export function abandonCheck<L extends PeerLocator>(a: Association<L>, key: string): void {
  const p = a.paths.get(key);
  if (!p || p.state === 'active') return;
  p.nonce = undefined;
  p.announced = false;
  p.state = 'deprecated';
}

/**
 * Where the next `bytes` of data for this peer go: the current ACTIVE locator, or an announced
 * UNVERIFIED one while credit lasts (the peer said it moved; RFC 8046 §5.3).
 */
export function dataPath<L extends PeerLocator>(a: Association<L>, bytes: number, now: number): L {
  const c = a.paths.announcedCandidate();
  if (c && a.paths.spend(bytes, now)) return c.locator;
  return a.locator;
}
