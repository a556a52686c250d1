import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import {
  lowBitsZero,
  puzzleHash,
  solvePuzzle,
  solvePuzzleAsync,
  verifyPuzzle,
} from '../../src/crypto/puzzle.js';
import { CAPTURE_NAMES, loadHipPackets, loadVectors, tlv } from './dh-capture-fixtures.js';

const HIT_I = hexToBytes('20010021000000000000000000000001');
const HIT_R = hexToBytes('20010021000000000000000000000002');
const I32 = new Uint8Array(32).fill(0x11);

function plusOne(j: Uint8Array): Uint8Array {
  const out = j.slice();
  for (let p = out.length - 1; p >= 0; p--) {
    out[p] = (out[p]! + 1) & 0xff;
    if (out[p] !== 0) break;
  }
  return out;
}

describe('lowBitsZero', () => {
  it('looks at the K lowest-order bits of the big-endian digest', () => {
    const d = hexToBytes('ffff0800');
    expect(lowBitsZero(d, 11)).toBe(true);
    expect(lowBitsZero(d, 12)).toBe(false);
    expect(lowBitsZero(d, 0)).toBe(true);
    expect(lowBitsZero(new Uint8Array(4), 32)).toBe(true);
    expect(lowBitsZero(new Uint8Array(4), 33)).toBe(false);
  });
});

describe.each([nodeCrypto, nobleCrypto])('$name provider: puzzle', (c: CryptoProvider) => {
  it('finds the HIP-DIGEST section 5 solution J = 1367 when counting from zero', () => {
    const j = solvePuzzle(c, { hash: 'sha256', i: I32, hitI: HIT_I, hitR: HIT_R, k: 10, random: (n) => new Uint8Array(n) });
    const want = new Uint8Array(32);
    want[30] = 0x05;
    want[31] = 0x57;
    expect(bytesToHex(j)).toBe(bytesToHex(want));
    expect(bytesToHex(puzzleHash(c, 'sha256', I32, HIT_I, HIT_R, j))).toBe(
      '7aecfc02e0ce35f4fc97b05d8a2e860325ce306fae204052b84cb63cc5c00800',
    );
    expect(verifyPuzzle(c, { hash: 'sha256', i: I32, hitI: HIT_I, hitR: HIT_R, j, k: 10 })).toBe(true);
    expect(verifyPuzzle(c, { hash: 'sha256', i: I32, hitI: HIT_I, hitR: HIT_R, j, k: 11 })).toBe(true);
    expect(verifyPuzzle(c, { hash: 'sha256', i: I32, hitI: HIT_I, hitR: HIT_R, j, k: 12 })).toBe(false);
    // the HIT order is part of the puzzle
    expect(verifyPuzzle(c, { hash: 'sha256', i: I32, hitI: HIT_R, hitR: HIT_I, j, k: 10 })).toBe(false);
  });

  it.each(CAPTURE_NAMES)('%s: accepts libhipl K = 12 solution, rejects J + 1', (name) => {
    const v = loadVectors(name);
    const i2 = loadHipPackets(name).find((p) => p.type === 3)!;
    const sol = tlv(i2, 321).value; // K | reserved | opaque | I | J
    expect(sol[0]).toBe(12);
    expect(bytesToHex(sol.subarray(4, 12))).toBe(bytesToHex(v.I));
    expect(bytesToHex(sol.subarray(12, 20))).toBe(bytesToHex(v.J));
    const base = { hash: 'sha1' as const, i: v.I, hitI: v.HIT_I, hitR: v.HIT_R, k: 12 };
    expect(verifyPuzzle(c, { ...base, j: v.J })).toBe(true);
    expect(verifyPuzzle(c, { ...base, j: plusOne(v.J) })).toBe(false);
  });

  it('gives the HIPV1-PROFILE 15 digest for capture C4', () => {
    const v = loadVectors('libhipl-v1-udp-k12');
    expect(bytesToHex(puzzleHash(c, 'sha1', v.I, v.HIT_I, v.HIT_R, v.J))).toBe('704bc8c37ec9a5e765c00192b14f8f0c50b68000');
  });

  it('solves v1 puzzles (8-byte I and J, SHA-1) that verify', () => {
    const v = loadVectors('libhipl-v1-udp-k12-swapped');
    const j = solvePuzzle(c, { hash: 'sha1', i: v.I, hitI: v.HIT_I, hitR: v.HIT_R, k: 12 });
    expect(j.length).toBe(8);
    expect(verifyPuzzle(c, { hash: 'sha1', i: v.I, hitI: v.HIT_I, hitR: v.HIT_R, j, k: 12 })).toBe(true);
  });

  it('returns a J that verifies for random puzzles (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sha1' as const, 'sha256' as const, 'sha384' as const),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 8 }),
        (hash, hitI, hitR, k) => {
          const i = c.randomBytes(hash === 'sha1' ? 8 : hash === 'sha256' ? 32 : 48);
          const j = solvePuzzle(c, { hash, i, hitI, hitR, k });
          expect(j.length).toBe(i.length);
          expect(verifyPuzzle(c, { hash, i, hitI, hitR, j, k })).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('puzzle bounds and errors', () => {
  const base = { hash: 'sha256' as const, i: I32, hitI: HIT_I, hitR: HIT_R };

  it('stops at maxAttempts with ERR_PUZZLE_TIMEOUT', () => {
    expect(() => solvePuzzle(nodeCrypto, { ...base, k: 40, maxAttempts: 1000 })).toThrow(
      expect.objectContaining({ code: 'ERR_PUZZLE_TIMEOUT', details: { attempts: 1000 } }),
    );
  });

  it('stops at the deadline of the given clock', () => {
    let t = 0;
    const now = () => (t += 10);
    expect(() => solvePuzzle(nodeCrypto, { ...base, k: 40, deadline: 100, now })).toThrow(
      expect.objectContaining({ code: 'ERR_PUZZLE_TIMEOUT' }),
    );
    expect(t).toBeGreaterThanOrEqual(100);
  });

  it('refuses an impossible K and wrong HIT lengths; verify says false for bad shapes', () => {
    expect(() => solvePuzzle(nodeCrypto, { ...base, hash: 'sha1', k: 161 })).toThrow(
      expect.objectContaining({ code: 'ERR_PUZZLE_UNSOLVABLE' }),
    );
    expect(() => solvePuzzle(nodeCrypto, { ...base, k: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_PUZZLE_UNSOLVABLE' }),
    );
    expect(() => solvePuzzle(nodeCrypto, { ...base, hitI: new Uint8Array(15), k: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
    );
    expect(verifyPuzzle(nodeCrypto, { ...base, j: new Uint8Array(31), k: 0 })).toBe(false);
    expect(verifyPuzzle(nodeCrypto, { ...base, j: new Uint8Array(32), k: 257 })).toBe(false);
    expect(verifyPuzzle(nodeCrypto, { ...base, j: new Uint8Array(32), k: 0 })).toBe(true);
  });

  it('skips a SHA-1 J whose last 32 digest bits are all zero (libhipl would reject it)', () => {
    // a provider whose first two SHA-1 digests end in 32 zero bits
    let calls = 0;
    const fake: CryptoProvider = {
      ...nodeCrypto,
      hash(alg, data) {
        calls++;
        const d = nodeCrypto.hash(alg, data).slice();
        if (calls <= 2) d.fill(0, d.length - 4);
        else d[d.length - 1] = 1; // never a solution by itself
        if (calls === 3) d.fill(0, d.length - 2);
        return d;
      },
    };
    const j = solvePuzzle(fake, { ...base, hash: 'sha1', i: new Uint8Array(8), k: 12, random: (n) => new Uint8Array(n) });
    expect(calls).toBe(3);
    expect(j[7]).toBe(2); // J = 0 and 1 were skipped
  });

  it('solves asynchronously, letting timers run between slices', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await expect(
        solvePuzzleAsync(nodeCrypto, { ...base, k: 40, maxAttempts: 60_000, sliceAttempts: 2000 }),
      ).rejects.toMatchObject({ code: 'ERR_PUZZLE_TIMEOUT' });
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
    const j = await solvePuzzleAsync(nobleCrypto, { ...base, k: 6 });
    expect(verifyPuzzle(nodeCrypto, { ...base, j, k: 6 })).toBe(true);
  });

  it('stops an async search when its AbortSignal fires', async () => {
    const ac = new AbortController();
    const p = solvePuzzleAsync(nodeCrypto, { ...base, k: 60, signal: ac.signal, sliceAttempts: 500 });
    setTimeout(() => ac.abort(new Error('user gave up')), 5);
    await expect(p).rejects.toMatchObject({ code: 'ERR_PUZZLE_ABORTED' });
    const already = AbortSignal.abort();
    await expect(solvePuzzleAsync(nodeCrypto, { ...base, k: 1, signal: already })).rejects.toMatchObject({
      code: 'ERR_PUZZLE_ABORTED',
    });
  });

  it('honours an async deadline', async () => {
    let t = 0;
    await expect(
      solvePuzzleAsync(nodeCrypto, { ...base, k: 60, deadline: 50, now: () => (t += 1), sliceAttempts: 300 }),
    ).rejects.toMatchObject({ code: 'ERR_PUZZLE_TIMEOUT' });
  });
});
