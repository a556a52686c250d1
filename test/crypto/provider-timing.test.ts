// Rough per-operation cost of the crypto in one HIPv2 base exchange (P-256, SHA-384 suite).
// Nothing is asserted about time; set HIPL_PRINT_TIMINGS=1 to print the numbers.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { privateKeyObjectToMaterial } from '../../src/crypto/key-convert.js';
import { keymatV2 } from '../../src/crypto/keymat.js';
import { publicKeyOf } from '../../src/crypto/keys.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { solvePuzzle, verifyPuzzle } from '../../src/crypto/puzzle.js';

const PRINT = process.env.HIPL_PRINT_TIMINGS !== undefined && process.env.HIPL_PRINT_TIMINGS !== '';

function time(label: string, n: number, fn: () => unknown, out: string[]): void {
  fn(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const us = ((performance.now() - t0) / n) * 1000;
  out.push(`${label.padEnd(34)} ${us.toFixed(1).padStart(9)} us`);
}

describe.each([nodeCrypto, nobleCrypto])('$name provider: base exchange crypto cost', (c: CryptoProvider) => {
  it('runs the crypto of both hosts of a P-256 BEX and (optionally) prints per-op timings', () => {
    const idI = privateKeyObjectToMaterial(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const idR = privateKeyObjectToMaterial(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const hitI = c.randomBytes(16);
    const hitR = c.randomBytes(16);
    const i = c.randomBytes(48);
    const packet = c.randomBytes(500);
    const n = c.name === 'node' ? 200 : 10;

    // one full exchange, checked for agreement
    const skI = c.importSigningKey(idI);
    const skR = c.importSigningKey(idR);
    const vkI = c.importVerifyingKey(publicKeyOf(idI));
    const vkR = c.importVerifyingKey(publicKeyOf(idR));
    const dhR = c.dhGenerate(7); // reused by the responder across exchanges
    const r1Sig = c.sign(skR, 'ecdsa-sha384', packet);
    const t0 = performance.now();
    expect(c.verify(vkR, 'ecdsa-sha384', packet, r1Sig)).toBe(true); // I: R1
    const j = solvePuzzle(c, { hash: 'sha384', i, hitI, hitR, k: 4 });
    const dhI = c.dhGenerate(7);
    const kmI = keymatV2(c, 'sha384', c.dhCompute(dhI, dhR.publicValue), i, j, hitI, hitR, 160);
    const macI = c.hmac('sha384', kmI.subarray(16, 64), packet);
    const sigI = c.sign(skI, 'ecdsa-sha384', packet); // I2
    expect(verifyPuzzle(c, { hash: 'sha384', i, hitI, hitR, j, k: 4 })).toBe(true); // R: I2
    const kmR = keymatV2(c, 'sha384', c.dhCompute(dhR, dhI.publicValue), i, j, hitI, hitR, 160);
    expect(c.hmac('sha384', kmR.subarray(16, 64), packet)).toEqual(macI);
    expect(c.verify(vkI, 'ecdsa-sha384', packet, sigI)).toBe(true);
    const sigR = c.sign(skR, 'ecdsa-sha384', packet); // R2
    const macR = c.hmac('sha384', kmR.subarray(80, 128), packet);
    expect(c.hmac('sha384', kmI.subarray(80, 128), packet)).toEqual(macR); // I: R2
    expect(c.verify(vkR, 'ecdsa-sha384', packet, sigR)).toBe(true);
    const bexMs = performance.now() - t0;

    if (PRINT) {
      const out: string[] = [`${c.name}: one P-256 BEX, both hosts, first run: ${(bexMs * 1000).toFixed(0)} us`];
      time('dhGenerate(7)', n, () => c.dhGenerate(7), out);
      time('dhCompute(7)', n, () => c.dhCompute(dhI, dhR.publicValue), out);
      time('dhGenerate(3)', Math.ceil(n / 10), () => c.dhGenerate(3), out);
      const m3 = c.dhGenerate(3);
      const p3 = c.dhGenerate(3).publicValue;
      time('dhCompute(3)', Math.ceil(n / 10), () => c.dhCompute(m3, p3), out);
      time('sign ecdsa-sha384 (P-256)', n, () => c.sign(skI, 'ecdsa-sha384', packet), out);
      time('verify ecdsa-sha384 (P-256)', n, () => c.verify(vkI, 'ecdsa-sha384', packet, sigI), out);
      time('keymatV2 sha384, 160 bytes', n, () => keymatV2(c, 'sha384', kmI.subarray(0, 32), i, j, hitI, hitR, 160), out);
      time('hmac sha384, 500 bytes', n * 5, () => c.hmac('sha384', kmI.subarray(16, 64), packet), out);
      time('hash sha256, 100 bytes (puzzle)', n * 5, () => c.hash('sha256', packet.subarray(0, 100)), out);
      const rsa = privateKeyObjectToMaterial(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
      const rsk = c.importSigningKey(rsa);
      const rvk = c.importVerifyingKey(publicKeyOf(rsa));
      const rsig = c.sign(rsk, 'rsa-pss-sha256', packet);
      time('sign rsa-pss-sha256 (2048)', Math.ceil(n / 10), () => c.sign(rsk, 'rsa-pss-sha256', packet), out);
      time('verify rsa-pss-sha256 (2048)', n, () => c.verify(rvk, 'rsa-pss-sha256', packet, rsig), out);
      console.log(out.join('\n'));
    }
  });
});
