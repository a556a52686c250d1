/**
 * The engine's building blocks on real bytes: with the DH exponents traced from a real libhipl
 * (test/fixtures/captures/*.vectors.json) we recompute Kij, KEYMAT and the captured HMAC/HMAC_2 values,
 * and check every captured R1/I2/R2/CLOSE/CLOSE_ACK the way a v1 peer would.
 */
import { pathToFileURL } from 'node:url';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { getProvider } from '../../src/crypto/get-provider.js';
import { keymatV1 } from '../../src/crypto/keymat.js';
import { verifyPuzzle } from '../../src/crypto/puzzle.js';
import { identifyPeer } from '../../src/core/peer-key.js';
import { checkMac, checkSignature } from '../../src/core/sealing.js';
import { deriveSessionKeys } from '../../src/core/session-keys.js';
import { extractHipPackets, findTlv, getParam, PacketType, ParamType, parsePacket, readCapture } from '../../src/wire/index.js';

const dir = pathToFileURL(CAPTURES_DIR);

function load(name: string) {
  const frames = readCapture(new Uint8Array(readFileSync(new URL(`${name}.pcap`, dir))));
  const packets = extractHipPackets(frames).map((c) => ({ raw: c.hip, pkt: parsePacket(c.hip) }));
  const v = JSON.parse(readFileSync(new URL(`${name}.vectors.json`, dir), 'utf8')) as Record<string, string>;
  const byType = (t: number) => packets.filter((p) => p.pkt.type === t);
  return { packets, byType, v: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hexToBytes(x)])) };
}

for (const name of ['libhipl-v1-udp-k12', 'libhipl-v1-udp-k12-swapped']) {
  for (const providerName of ['node', 'noble'] as const) {
    describe(`${name} with the ${providerName} provider`, () => {
      const provider = getProvider(providerName);
      const { byType, v } = load(name);
      const r1 = byType(PacketType.R1)[0]!;
      const i2 = byType(PacketType.I2)[0]!;
      const r2 = byType(PacketType.R2)[0]!;

      it('recomputes both DH public values and Kij from the traced exponents', () => {
        const dhI = provider.dhGenerate(3, v['xI3']!);
        const dhR = provider.dhGenerate(3, v['xR3']!);
        const r1Value = getParam(r1.pkt, ParamType.DIFFIE_HELLMAN)!.values.find((x) => x.group === 3)!;
        const i2Value = getParam(i2.pkt, ParamType.DIFFIE_HELLMAN)!.values[0]!;
        expect(bytesToHex(dhR.publicValue)).toBe(bytesToHex(r1Value.publicValue));
        expect(bytesToHex(dhI.publicValue)).toBe(bytesToHex(i2Value.publicValue));
        expect(bytesToHex(provider.dhCompute(dhI, r1Value.publicValue))).toBe(bytesToHex(v['Kij']!));
        expect(bytesToHex(provider.dhCompute(dhR, i2Value.publicValue))).toBe(bytesToHex(v['Kij']!));
      });

      it('derives KEYMAT and verifies the captured I2 HMAC and R2 HMAC_2 from both ends', () => {
        const km = keymatV1(provider, v['Kij']!, v['HIT_I']!, v['HIT_R']!, v['I']!, v['J']!, 160);
        expect(bytesToHex(km)).toBe(bytesToHex(v['KEYMAT160']!));
        const solution = getParam(i2.pkt, ParamType.SOLUTION)!;
        expect(bytesToHex(solution.j)).toBe(bytesToHex(v['J']!));
        const common = { version: 1 as const, rhash: 'sha1' as const, kij: v['Kij']!, puzzleI: v['I']!, puzzleJ: v['J']!, hipEncKeyLength: 16, espSuite: 1 };
        const initiator = deriveSessionKeys(provider, { ...common, localHit: v['HIT_I']!, peerHit: v['HIT_R']! });
        const responder = deriveSessionKeys(provider, { ...common, localHit: v['HIT_R']!, peerHit: v['HIT_I']! });
        expect(initiator.esp.keymatIndex).toBe(getParam(i2.pkt, ParamType.ESP_INFO)!.keymatIndex);
        const i2Mac = getParam(i2.pkt, ParamType.HIP_MAC)!.mac;
        const r2Mac = getParam(r2.pkt, ParamType.HIP_MAC_2)!.mac;
        const hostIdTlv = findTlv(r1.raw, ParamType.HOST_ID)!;
        expect(checkMac(provider, i2.raw, i2Mac, { type: ParamType.HIP_MAC, hash: 'sha1', key: initiator.hip.macOut })).toBe(true);
        expect(checkMac(provider, i2.raw, i2Mac, { type: ParamType.HIP_MAC, hash: 'sha1', key: responder.hip.macIn })).toBe(true);
        expect(checkMac(provider, r2.raw, r2Mac, { type: ParamType.HIP_MAC_2, hash: 'sha1', key: responder.hip.macOut, responderHostIdTlv: hostIdTlv })).toBe(true);
        expect(checkMac(provider, r2.raw, r2Mac, { type: ParamType.HIP_MAC_2, hash: 'sha1', key: initiator.hip.macIn, responderHostIdTlv: hostIdTlv })).toBe(true);
        // the wrong direction key must fail
        expect(checkMac(provider, i2.raw, i2Mac, { type: ParamType.HIP_MAC, hash: 'sha1', key: initiator.hip.macIn })).toBe(false);
        // SA keys: the initiator's outbound equals the responder's inbound
        expect(bytesToHex(initiator.esp.outbound.enc)).toBe(bytesToHex(responder.esp.inbound.enc));
        expect(bytesToHex(initiator.esp.outbound.auth)).toBe(bytesToHex(responder.esp.inbound.auth));
      });

      it('accepts the captured R1, I2, R2 and close packets as a v1 peer would', () => {
        const hostIdI = getParam(i2.pkt, ParamType.HOST_ID)!;
        const hostIdR = getParam(r1.pkt, ParamType.HOST_ID)!;
        const peerR = identifyPeer(hostIdR, 1, r1.pkt.senderHit);
        const peerI = identifyPeer(hostIdI, 1, i2.pkt.senderHit);
        expect(peerR.hitMatches).toBe(true);
        expect(peerI.hitMatches).toBe(true);
        const keyR = provider.importVerifyingKey(peerR.publicKey);
        const keyI = provider.importVerifyingKey(peerI.publicKey);
        const sig2 = getParam(r1.pkt, ParamType.HIP_SIGNATURE_2)!.signature;
        expect(checkSignature(provider, r1.raw, ParamType.HIP_SIGNATURE_2, keyR, peerR.schemes, sig2)).toBe(true);
        expect(checkSignature(provider, i2.raw, ParamType.HIP_SIGNATURE, keyI, peerI.schemes, getParam(i2.pkt, ParamType.HIP_SIGNATURE)!.signature)).toBe(true);
        expect(checkSignature(provider, r2.raw, ParamType.HIP_SIGNATURE, keyR, peerR.schemes, getParam(r2.pkt, ParamType.HIP_SIGNATURE)!.signature)).toBe(true);
        const puzzle = getParam(r1.pkt, ParamType.PUZZLE)!;
        const sol = getParam(i2.pkt, ParamType.SOLUTION)!;
        expect(puzzle.k).toBe(12);
        expect(verifyPuzzle(provider, { hash: 'sha1', i: sol.i, hitI: i2.pkt.senderHit, hitR: r1.pkt.senderHit, j: sol.j, k: puzzle.k })).toBe(true);
        for (const p of [...byType(PacketType.CLOSE), ...byType(PacketType.CLOSE_ACK)]) {
          const key = Buffer.from(p.pkt.senderHit).equals(Buffer.from(r1.pkt.senderHit)) ? keyR : keyI;
          expect(checkSignature(provider, p.raw, ParamType.HIP_SIGNATURE, key, peerR.schemes, getParam(p.pkt, ParamType.HIP_SIGNATURE)!.signature)).toBe(true);
        }
        // a flipped bit anywhere in the signed part breaks the R1 signature
        const bad = r1.raw.slice();
        bad[60]! ^= 1;
        expect(checkSignature(provider, bad, ParamType.HIP_SIGNATURE_2, keyR, peerR.schemes, sig2)).toBe(false);
      });
    });
  }
}
