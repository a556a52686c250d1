/**
 * The host's side of peer loss (the decision is the engine's, core/peer-loss.ts): remember the
 * datagrams sent to each peer since it was last heard, so that when the engine reports the peer
 * lost (it restarted and dropped them silently), they can be sent again on the new association.
 *
 * What counts as "heard": any authenticated packet from the peer (ESP, an UPDATE such as the
 * answer to a loss probe). A datagram sent before that is taken as delivered and forgotten, so a
 * one-way sender to a live peer never sends anything twice. The memory is bounded per peer
 * ({@link RESEND_LIMIT}): past it the oldest datagrams are forgotten (they are then lost if the
 * peer turns out to have restarted, as they would have been without this).
 * @module
 */

/** A datagram as the host sends it (inner UDP ports and payload). */
export interface SentDatagram {
  /** Our port. */
  srcPort: number;
  /** The peer's port. */
  dstPort: number;
  /** Payload (a private copy). */
  data: Uint8Array;
}

/** Most datagrams and bytes remembered per peer for a resend. */
export const RESEND_LIMIT = Object.freeze({ datagrams: 256, bytes: 256 * 1024 });

interface Unheard {
  items: { d: SentDatagram; at: number }[];
  bytes: number;
}

/** Datagrams sent to each peer since it was last heard. */
export class UnheardDatagrams {
  private readonly byHit = new Map<string, Unheard>();

  /** Remember `d`, sent to `hit` at `now`; forget what was sent before `heardAt`. */
  record(hit: string, d: SentDatagram, now: number, heardAt: number | undefined): void {
    const u = this.byHit.get(hit) ?? { items: [], bytes: 0 };
    this.byHit.set(hit, u);
    if (heardAt !== undefined) this.prune(u, (x) => x.at < heardAt);
    u.items.push({ d: { srcPort: d.srcPort, dstPort: d.dstPort, data: d.data.slice() }, at: now });
    u.bytes += d.data.length;
    this.prune(u, () => u.items.length > RESEND_LIMIT.datagrams || u.bytes > RESEND_LIMIT.bytes);
  }

  /** Take (and forget) what was sent to `hit` at or after `heardAt`, oldest first. */
  take(hit: string, heardAt: number): SentDatagram[] {
    const u = this.byHit.get(hit);
    this.byHit.delete(hit);
    return u ? u.items.filter((x) => x.at >= heardAt).map((x) => x.d) : [];
  }

  /** Forget everything sent to `hit` (its association ended). */
  forget(hit: string): void {
    this.byHit.delete(hit);
  }

  /** Datagrams remembered for `hit`. */
  count(hit: string): number {
    return this.byHit.get(hit)?.items.length ?? 0;
  }

  /** Drop from the oldest end while `drop` says so. */
  private prune(u: Unheard, drop: (x: { d: SentDatagram; at: number }) => boolean): void {
    while (u.items.length > 0 && drop(u.items[0]!)) {
      u.bytes -= u.items.shift()!.d.data.length;
    }
  }
}
