// An independent reference for the ESP key order (issue 8): KEYMAT is derived here by hand with
// node:crypto's HKDF (RFC 7401 §6.5) or taken from libhipl's own dump (HIPv1), sliced in the
// order of RFC 7402 §7 / RFC 5202 §7 with lengths written out from RFC 7402 §5.1.2, and compared
// with what the engine installs. Swapping the SA-gl and SA-lg blocks, or the enc/auth keys inside
// one, makes these tests fail even though both ends would still agree with each other.
import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { deriveSessionKeys } from '../../src/core/session-keys.js';
import type { EspSaParams } from '../../src/core/events.js';
import { getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { CAPTURE_NAMES, loadVectors } from '../crypto/dh-capture-fixtures.js';
import { SimNetwork } from './sim.js';

/** ESP key lengths per suite, from RFC 7402 §5.1.2 (GCM: 16-byte AES key + 4-byte salt). */
const ESP_KEYS: Record<number, { enc: number; auth: number }> = {
  1: { enc: 16, auth: 20 },
  8: { enc: 16, auth: 32 },
  9: { enc: 32, auth: 32 },
  12: { enc: 20, auth: 0 },
  13: { enc: 20, auth: 0 },
};
/** HIP_CIPHER key lengths (RFC 7401 §5.2.8): NULL, AES-128-CBC, AES-256-CBC. */
const HIP_CIPHER_KEY: Record<number, number> = { 1: 0, 2: 16, 4: 32 };
/** RHASH by HIT suite (RFC 7401 §5.2.10), read from the OGA nibble of the responder HIT. */
const RHASH: Record<number, { name: 'sha1' | 'sha256' | 'sha384'; len: number }> = {
  1: { name: 'sha256', len: 32 },
  2: { name: 'sha384', len: 48 },
  3: { name: 'sha1', len: 20 },
};

function greater(x: Uint8Array, y: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(x), Buffer.from(y)) > 0;
}

/** The four ESP keys of RFC 7402 §7, drawn after the four HIP keys. */
function referenceEspKeys(keymat: Uint8Array, hipEnc: number, macLen: number, esp: { enc: number; auth: number }) {
  let off = 2 * (hipEnc + macLen);
  const take = (n: number) => keymat.slice(off, (off += n));
  const index = off;
  const glEnc = take(esp.enc);
  const glAuth = take(esp.auth);
  const lgEnc = take(esp.enc);
  const lgAuth = take(esp.auth);
  return { index, gl: { enc: glEnc, auth: glAuth }, lg: { enc: lgEnc, auth: lgAuth } };
}

function hex(k: { enc: Uint8Array; auth: Uint8Array }) {
  return { enc: bytesToHex(k.enc), auth: bytesToHex(k.auth) };
}

describe('HIPv2: ESP keys installed by a BEX equal a KEYMAT derived by hand', () => {
  const idA = HostIdentity.generate();
  const idB = HostIdentity.generate();

  for (const suite of Object.keys(ESP_KEYS).map(Number)) {
    it(`ESP suite ${suite}: the host with the greater HIT sends with SA-gl, the other with SA-lg`, () => {
      // Record the DH secret as each side computes it; nothing else of the engine is trusted.
      const secrets: Uint8Array[] = [];
      const recording: CryptoProvider = {
        ...nodeCrypto,
        dhCompute: (...args: Parameters<CryptoProvider['dhCompute']>) => {
          const k = nodeCrypto.dhCompute(...args);
          secrets.push(k.slice());
          return k;
        },
      };
      const net = new SimNetwork(`key-order-${suite}`);
      const a = net.addNode('a', idA, { espSuites: [suite] }, { provider: recording });
      const b = net.addNode('b', idB, { espSuites: [suite] }, { provider: recording });
      let i2: Uint8Array | undefined;
      net.hook = (t) => {
        if (t.packetType === PacketType.I2) i2 ??= t.packet.slice();
        return t.packet;
      };
      a.engine.connect(idB.hit(), [b.locator], net.now);
      net.run();

      const saA = SimNetwork.eventsOf(a, 'established')[0]!.sa as EspSaParams;
      const saB = SimNetwork.eventsOf(b, 'established')[0]!.sa as EspSaParams;
      expect(saA.suite).toBe(suite);
      expect(secrets).toHaveLength(2);
      expect(bytesToHex(secrets[0]!)).toBe(bytesToHex(secrets[1]!));

      const p = parsePacket(i2!);
      const sol = getParam(p, ParamType.SOLUTION)!;
      const hipCipher = getParam(p, ParamType.HIP_CIPHER)!.ciphers[0]!;
      const hitA = idA.hit();
      const hitB = idB.hit();
      const rhash = RHASH[hitB[3]! & 0x0f]!;
      const hipEnc = HIP_CIPHER_KEY[hipCipher]!;
      const esp = ESP_KEYS[suite]!;
      const [low, high] = greater(hitA, hitB) ? [hitB, hitA] : [hitA, hitB];
      const total = 2 * (hipEnc + rhash.len) + 2 * (esp.enc + esp.auth);
      const keymat = new Uint8Array(
        hkdfSync(rhash.name, secrets[0]!, Buffer.concat([sol.i, sol.j]), Buffer.concat([low, high]), total),
      );
      const ref = referenceEspKeys(keymat, hipEnc, rhash.len, esp);

      const [g, l] = greater(hitA, hitB) ? [saA, saB] : [saB, saA];
      expect(hex(g.outbound)).toEqual(hex(ref.gl));
      expect(hex(g.inbound)).toEqual(hex(ref.lg));
      expect(hex(l.outbound)).toEqual(hex(ref.lg));
      expect(hex(l.inbound)).toEqual(hex(ref.gl));
      expect(saA.keymatIndex).toBe(ref.index);
      expect(saB.keymatIndex).toBe(ref.index);
      // Each direction has its own keys.
      expect(bytesToHex(ref.gl.enc)).not.toBe(bytesToHex(ref.lg.enc));
    });
  }
});

describe("HIPv1: ESP keys drawn from libhipl's KEYMAT (capture vectors) in RFC 5202 order", () => {
  for (const name of CAPTURE_NAMES) {
    it(`${name}: SA-gl follows the four HIP keys at index 72, then SA-lg (ESP suite 1)`, () => {
      const v = loadVectors(name);
      const ref = referenceEspKeys(v.KEYMAT160, 16, 20, ESP_KEYS[1]!);
      expect(ref.index).toBe(72); // the KEYMAT index libhipl put in ESP_INFO
      for (const [local, peer] of [
        [v.HIT_I, v.HIT_R],
        [v.HIT_R, v.HIT_I],
      ] as const) {
        const keys = deriveSessionKeys(nodeCrypto, {
          version: 1,
          rhash: 'sha1',
          kij: v.Kij,
          puzzleI: v.I,
          puzzleJ: v.J,
          localHit: local,
          peerHit: peer,
          hipEncKeyLength: 16,
          espSuite: 1,
        });
        const localIsG = greater(local, peer);
        expect(keys.esp.keymatIndex).toBe(72);
        expect(hex(keys.esp.outbound)).toEqual(hex(localIsG ? ref.gl : ref.lg));
        expect(hex(keys.esp.inbound)).toEqual(hex(localIsG ? ref.lg : ref.gl));
        // The HIP keys come first: HIP-gl enc | HIP-gl int | HIP-lg enc | HIP-lg int.
        const glInt = bytesToHex(v.KEYMAT160.subarray(16, 36));
        const lgInt = bytesToHex(v.KEYMAT160.subarray(52, 72));
        expect(bytesToHex(keys.hip.macOut)).toBe(localIsG ? glInt : lgInt);
        expect(bytesToHex(keys.hip.macIn)).toBe(localIsG ? lgInt : glInt);
        expect(bytesToHex(keys.hip.encOut)).toBe(bytesToHex(v.KEYMAT160.subarray(localIsG ? 0 : 36, localIsG ? 16 : 52)));
      }
    });
  }
});
