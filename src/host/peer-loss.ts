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

interface Entry {
  d: SentDatagram;
  at: number;
}

interface Unheard {
  /** Oldest first; entries before `head` are forgotten (a queue without shift()'s copying). */
  items: (Entry | undefined)[];
  head: number;
  bytes: number;
}

/** Datagrams sent to each peer since it was last heard. */
export class UnheardDatagrams {
  private readonly byHit = new Map<string, Unheard>();

  /**
   * Remember `d`, sent to `hit` at `now`; forget what was sent before `heardAt`. Runs for every
   * datagram sent, so it allocates only the entry and its copy of the data.
   */
  record(hit: string, d: SentDatagram, now: number, heardAt: number | undefined): void {
    let u = this.byHit.get(hit);
    if (u === undefined) this.byHit.set(hit, (u = { items: [], head: 0, bytes: 0 }));
    if (heardAt !== undefined) while (u.head < u.items.length && u.items[u.head]!.at < heardAt) this.dropOldest(u);
    u.items.push({ d: { srcPort: d.srcPort, dstPort: d.dstPort, data: d.data.slice() }, at: now });
    u.bytes += d.data.length;
    while (u.items.length - u.head > RESEND_LIMIT.datagrams || u.bytes > RESEND_LIMIT.bytes) this.dropOldest(u);
    if (u.head >= 64 && u.head * 2 >= u.items.length) {
      u.items.splice(0, u.head);
      u.head = 0;
    }
  }

  /** Take (and forget) what was sent to `hit` at or after `heardAt`, oldest first. */
  take(hit: string, heardAt: number): SentDatagram[] {
    const u = this.byHit.get(hit);
    this.byHit.delete(hit);
    return u ? u.items.slice(u.head).filter((x): x is Entry => x !== undefined && x.at >= heardAt).map((x) => x.d) : [];
  }

  /** Forget everything sent to `hit` (its association ended). */
  forget(hit: string): void {
    this.byHit.delete(hit);
  }

  /** Datagrams remembered for `hit`. */
  count(hit: string): number {
    const u = this.byHit.get(hit);
    return u ? u.items.length - u.head : 0;
  }

  private dropOldest(u: Unheard): void {
    const x = u.items[u.head]!;
    u.items[u.head++] = undefined;
    u.bytes -= x.d.data.length;
    if (u.head === u.items.length) {
      u.items.length = 0;
      u.head = 0;
    }
  }
}
