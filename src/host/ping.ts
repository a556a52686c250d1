/**
 * Our own pings: ICMPv6 echo requests to a peer's HIT inside ESP, matched with their replies by
 * peer, identifier and sequence number. One table per host, bounded by the callers' own pings
 * (each waits at most its timeout).
 * @module
 */
import { HipError, HipProtocolError } from '../errors.js';

interface Waiting {
  sentAt: number;
  reply: Promise<number>;
  resolve: (rttMs: number) => void;
  reject: (e: HipError) => void;
  timer: NodeJS.Timeout;
}

/** Pending echo requests of one host. */
export class PingTable {
  /** ICMPv6 identifier of this host's echo requests. */
  readonly id: number;
  #seq = 0;
  readonly #waiting = new Map<string, Waiting>();

  constructor(random: () => number = Math.random) {
    this.id = Math.floor(random() * 0x10000) & 0xffff;
  }

  /** Register the next echo request to `peer`; returns its sequence number and the reply's promise. */
  start(peer: string, now: number, timeoutMs: number): { seq: number; reply: Promise<number> } {
    const seq = (this.#seq = (this.#seq + 1) & 0xffff);
    const key = `${peer}/${seq}`;
    let w!: Waiting;
    const reply = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new HipProtocolError('ERR_HIP_PING_TIMEOUT', `no echo reply from ${peer} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      w = { sentAt: now, reply: undefined as unknown as Promise<number>, resolve, reject, timer };
    });
    w.reply = reply;
    // 65536 pings later the sequence number comes round again: the old one has waited long enough.
    this.#waiting.get(key)?.reject(new HipProtocolError('ERR_HIP_PING_TIMEOUT', `ping ${seq} to ${peer} superseded`));
    this.#waiting.set(key, w);
    return { seq, reply };
  }

  /** An echo reply arrived: true if it answered one of ours (which then resolves). */
  answer(peer: string, id: number, seq: number, now: number): boolean {
    if (id !== this.id) return false;
    const key = `${peer}/${seq}`;
    const w = this.#waiting.get(key);
    if (!w) return false;
    this.#waiting.delete(key);
    clearTimeout(w.timer);
    w.resolve(now - w.sentAt);
    return true;
  }

  /** Forget a ping whose request could not be sent (its caller gets the send's error instead). */
  cancel(peer: string, seq: number): void {
    const key = `${peer}/${seq}`;
    const w = this.#waiting.get(key);
    if (!w) return;
    this.#waiting.delete(key);
    clearTimeout(w.timer);
    // The caller never sees this promise: keep its rejection handled.
    w.reply.catch(() => undefined);
    w.reject(new HipProtocolError('ERR_HIP_PING_CANCELLED', `ping ${seq} to ${peer} was not sent`));
  }

  /** Fail every pending ping (the host shuts down). */
  failAll(error: () => HipError): void {
    if (this.#waiting.size === 0) return; // no error built (and no stack captured) for nobody
    const e = error();
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.#waiting.clear();
  }
}
