/**
 * The responder's stateless side: puzzle secrets that rotate with R1_COUNTER, and R1s built and
 * signed once per rotation. Answering an I1 only copies a template and fills in the receiver
 * HIT, the puzzle's Opaque and #I (RFC 7401 Appendix A; HIP-DIGEST 5).
 * @module
 */
import { bytesEqual, bytesToHex, concatBytes } from '../bytes.js';
import type { CryptoProvider, DhKeyPair } from '../crypto/provider.js';
import type { HashName } from '../crypto/keys.js';
import { findTlv, ParamType } from '../wire/index.js';

/** One rotation period of the responder. */
export interface Generation {
  /** R1_COUNTER value (v2) and, in its low 16 bits, the puzzle Opaque. */
  counter: bigint;
  secret: Uint8Array;
  /** Puzzle difficulty issued in this generation. */
  k: number;
  startedAt: number;
  /** DH key pairs by group, reused for the whole generation. */
  dh: Map<number, DhKeyPair>;
  /** Signed R1 templates, by `${version}:${group}`. */
  templates: Map<string, R1Template>;
  /**
   * Puzzle solutions seen in I2s of this generation, by {@link solutionKey}: how many DH
   * computations each has bought, or {@link ACCEPTED} once an I2 with it created an
   * association. The DH key is fixed for the generation, so an accepted solution presented
   * again would derive the same keys: it is never accepted twice (RFC 7401 4.1.1, 6.9).
   */
  solutions: Map<string, number>;
}

/** Marks a solution in {@link Generation.solutions} that an association was built from. */
export const ACCEPTED = -1;

/**
 * DH computations one unaccepted solution may buy: the first I2 and two retransmissions. A
 * replayed solution with a broken MAC must not buy unlimited ECDH work.
 */
export const DH_ATTEMPTS_PER_SOLUTION = 3;

/**
 * Solutions remembered per generation. When the table is full the responder starts a new
 * generation (new secret, new DH keys), so the table stays bounded and no record is forgotten
 * while its generation can still be answered.
 */
export const SOLUTIONS_PER_GENERATION = 8192;

/** A signed R1 waiting for its receiver HIT, Opaque and #I. */
export interface R1Template {
  bytes: Uint8Array;
  /** Offset of the PUZZLE TLV in `bytes`. */
  puzzleOffset: number;
  /** Our HOST_ID TLV as sent, for HIP_MAC_2 in the R2. */
  hostIdTlv: Uint8Array;
  group: number;
}

/** Dependencies of the {@link R1Factory}. */
export interface R1FactoryDeps {
  provider: CryptoProvider;
  random: (n: number) => Uint8Array;
  rotationMs: number;
}

const encoder = new TextEncoder();

/** Keeps the current and previous generation and answers I1s from templates. */
export class R1Factory {
  private current: Generation | undefined;
  private previous: Generation | undefined;
  private counter = 0n;

  constructor(private readonly deps: R1FactoryDeps) {}

  /** The generation valid at `now`, rotating first if it is due. */
  generation(now: number, k: number): Generation {
    const cur = this.current;
    if (!cur || now - cur.startedAt >= this.deps.rotationMs || now < cur.startedAt) return this.rotate(now, k);
    return cur;
  }

  /** Start a new generation now (secret, counter, DH keys and templates all renewed). */
  rotate(now: number, k: number): Generation {
    this.previous = this.current;
    this.counter += 1n;
    this.current = {
      counter: this.counter,
      secret: this.deps.random(32),
      k,
      startedAt: now,
      dh: new Map(),
      templates: new Map(),
      solutions: new Map(),
    };
    return this.current;
  }

  /** The generation an I2's SOLUTION Opaque points to, if it is still valid. */
  generationForOpaque(opaque: number): Generation | undefined {
    for (const g of [this.current, this.previous]) if (g && Number(g.counter & 0xffffn) === opaque) return g;
    return undefined;
  }

  /**
   * What a generation knows of a solution: `'accepted'` (an association was built from it),
   * `'exhausted'` (it bought its DH attempts without success) or `'fresh'`.
   */
  solutionState(gen: Generation, key: string): 'fresh' | 'accepted' | 'exhausted' {
    const n = gen.solutions.get(key);
    if (n === undefined) return 'fresh';
    if (n === ACCEPTED) return 'accepted';
    return n >= DH_ATTEMPTS_PER_SOLUTION ? 'exhausted' : 'fresh';
  }

  /** Count one DH computation for a solution. Returns true when the generation's table is full. */
  noteAttempt(gen: Generation, key: string): boolean {
    gen.solutions.set(key, (gen.solutions.get(key) ?? 0) + 1);
    return gen.solutions.size >= SOLUTIONS_PER_GENERATION;
  }

  /** Record that an association was built from a solution: it is never accepted again. */
  noteAccepted(gen: Generation, key: string): void {
    gen.solutions.set(key, ACCEPTED);
  }

  /** The DH key pair of a group in a generation, created on first use. */
  dhKey(gen: Generation, group: number, create: (group: number) => DhKeyPair): DhKeyPair {
    let kp = gen.dh.get(group);
    if (!kp) {
      kp = create(group);
      gen.dh.set(group, kp);
    }
    return kp;
  }

  /** The template for (version, group), built and signed on first use. */
  template(gen: Generation, version: 1 | 2, group: number, build: () => Uint8Array): R1Template {
    const key = `${version}:${group}`;
    let t = gen.templates.get(key);
    if (!t) {
      const bytes = build();
      const puzzle = findTlv(bytes, ParamType.PUZZLE);
      const hostIdTlv = findTlv(bytes, ParamType.HOST_ID);
      if (!puzzle || !hostIdTlv) throw new Error('R1 template lacks PUZZLE or HOST_ID');
      t = { bytes, puzzleOffset: puzzle.byteOffset - bytes.byteOffset, hostIdTlv: hostIdTlv.slice(), group };
      gen.templates.set(key, t);
    }
    return t;
  }

  /**
   * The puzzle #I for an initiator: a keyed hash of the HITs and the initiator's locator, so
   * the responder can recompute it from the I2 without keeping state (RFC 7401 Appendix A).
   */
  puzzleI(gen: Generation, hash: HashName, length: number, hitI: Uint8Array, hitR: Uint8Array, locatorKey: string): Uint8Array {
    const digest = this.deps.provider.hmac(hash, gen.secret, concatBytes(hitI, hitR, encoder.encode(locatorKey)));
    return digest.subarray(0, length);
  }

  /** An R1 ready to send: a copy of the template with receiver HIT, Opaque and #I filled in. */
  fill(t: R1Template, gen: Generation, receiverHit: Uint8Array, i: Uint8Array): Uint8Array {
    const out = t.bytes.slice();
    out.set(receiverHit, 24);
    const opaque = Number(gen.counter & 0xffffn);
    out[t.puzzleOffset + 6] = opaque >> 8;
    out[t.puzzleOffset + 7] = opaque & 0xff;
    out.set(i, t.puzzleOffset + 8);
    return out;
  }

  /** True when #I in a SOLUTION is the one we issued to this initiator in `gen`. */
  isOurI(gen: Generation, hash: HashName, i: Uint8Array, hitI: Uint8Array, hitR: Uint8Array, locatorKey: string): boolean {
    return bytesEqual(this.puzzleI(gen, hash, i.length, hitI, hitR, locatorKey), i);
  }
}

/** The record key of a puzzle solution: the initiator's HIT, #I and #J. */
export function solutionKey(hitI: Uint8Array, i: Uint8Array, j: Uint8Array): string {
  return `${bytesToHex(hitI)}:${bytesToHex(i)}:${bytesToHex(j)}`;
}
