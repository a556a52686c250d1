/**
 * Issue 13: ESP in hipd's form. hipd's ICV covers only the 32-bit sequence number; hipl speaks
 * that form with HIPv1 peers when told to (`espSequenceV1: '32bit'`, or per peer), refuses it
 * otherwise (every such packet fails authentication), and keeps RFC 5202's ESN by default.
 * Real loopback sockets; the wire form is checked against the keylog's keys independently.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { OutboundSa } from '../../src/esp/sa.js';
import { HipHost, type HostOptions } from '../../src/host/host.js';
import { extractEspPackets } from '../../src/wire/ip-frames.js';
import { readCapture } from '../../src/wire/pcap-reader.js';
import { until } from '../helpers/transport-sockets.js';

const LO = '127.0.0.1';
const RSA_A = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const RSA_B = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const hosts: HipHost[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(100)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function host(opts: HostOptions): Promise<HipHost> {
  const h = await HipHost.create({ udp: { address: LO }, ...opts });
  hosts.push(h);
  return h;
}

const enc = (t: string) => new TextEncoder().encode(t);
const received = (h: HipHost, port: number): string[] => {
  const got: string[] = [];
  h.bindDatagramPort(port, (d) => got.push(Buffer.from(d).toString()));
  return got;
};

describe("HIPv1 ESP in hipd's 32-bit form", () => {
  it('two hipl hosts configured for it exchange ESP whose ICV covers only the 32 bits sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hipl-hipd-esp-'));
    dirs.push(dir);
    const a = await host({ identity: RSA_A, espSequenceV1: '32bit', pcap: join(dir, 'a.pcap'), keylog: join(dir, 'a.keys') });
    const b = await host({ identity: RSA_B, espSequenceV1: '32bit' });
    a.peers.add(b.hit(1), { address: LO, port: b.udpAddress!.port });
    const atB = received(b, 7);
    const atA = received(a, 8);
    const info = await a.connect(b.hit(1));
    expect(info).toMatchObject({ version: 1, suite: 1, espSequence: '32bit' });
    for (let i = 0; i < 3; i++) await a.sendDatagram(b.hit(1), 8, 7, enc(`to b ${i}`));
    await until(() => atB.length === 3, 5000, 'b got 3');
    await b.sendDatagram(a.hit(1), 7, 8, enc('to a'));
    await until(() => atA.length === 1, 5000, 'a got 1');
    expect(atB).toEqual(['to b 0', 'to b 1', 'to b 2']);
    expect(atA).toEqual(['to a']);
    expect(b.associationStats(a.hit(1))!.drops).toEqual({});
    await a.shutdown(200);

    // Independently: HMAC-SHA1-96 over SPI .. ciphertext, nothing appended, as hipd computes it.
    const keys = new Map<string, Buffer>();
    for (const line of readFileSync(join(dir, 'a.keys'), 'utf8').split('\n').filter((l) => l.startsWith('"'))) {
      const f = line.split(',').map((x) => x.replace(/"/g, ''));
      keys.set(f[3]!.slice(2).toLowerCase(), Buffer.from(f[7]!.slice(2), 'hex'));
    }
    const esp = extractEspPackets(readCapture(readFileSync(join(dir, 'a.pcap'))));
    expect(esp.length).toBe(4);
    for (const e of esp) {
      const p = Buffer.from(e.esp);
      const key = keys.get(p.subarray(0, 4).toString('hex'))!;
      const icv = createHmac('sha1', key).update(p.subarray(0, p.length - 12)).digest().subarray(0, 12);
      expect(icv.equals(p.subarray(p.length - 12))).toBe(true);
    }
  });

  it('a host left at the default (ESN) drops the 32-bit form as an authentication failure, and the other way round', async () => {
    const a = await host({ identity: RSA_A, espSequenceV1: '32bit' });
    const b = await host({ identity: RSA_B });
    a.peers.add(b.hit(1), { address: LO, port: b.udpAddress!.port });
    const atB = received(b, 7);
    const atA = received(a, 8);
    expect((await a.connect(b.hit(1))).espSequence).toBe('32bit');
    await a.sendDatagram(b.hit(1), 8, 7, enc('refused'));
    await a.sendDatagram(b.hit(1), 8, 7, enc('refused too'));
    await until(() => b.associationStats(a.hit(1))?.drops.auth === 2, 5000, 'two auth drops at b');
    expect(atB).toEqual([]);
    expect(b.associationStats(a.hit(1))!.packetsIn).toBe(0);
    // b seals in the RFC form, which a host configured for hipd's form refuses the same way
    await b.sendDatagram(a.hit(1), 7, 8, enc('refused back'));
    await until(() => a.associationStats(b.hit(1))?.drops.auth === 1, 5000, 'one auth drop at a');
    expect(atA).toEqual([]);
  });

  it('can be set per peer, and never applies to HIPv2', async () => {
    const a = await host({ identity: RSA_A });
    const b = await host({ identity: RSA_B, espSequenceV1: '32bit' });
    a.peers.add(b.hit(1), { address: LO, port: b.udpAddress!.port }, { espSequence: '32bit' });
    const atB = received(b, 7);
    expect((await a.connect(b.hit(1))).espSequence).toBe('32bit');
    await a.sendDatagram(b.hit(1), 8, 7, enc('per peer'));
    await until(() => atB.length === 1, 5000, 'b got it');
    // hipd's heartbeat over such an association: an echo request inside ESP, answered
    expect(await b.ping(a.hit(1))).toBeGreaterThanOrEqual(0);
    expect(a.associationStats(b.hit(1))!.echoesAnswered).toBe(1);

    const c = await host({ espSequenceV1: '32bit' });
    const d = await host({ espSequenceV1: '32bit' });
    c.peers.add(d.hit(), { address: LO, port: d.udpAddress!.port }, { espSequence: '32bit' });
    expect((await c.connect(d.hit())).espSequence).toBe('esn');
    expect(() => a.peers.add(d.hit(), { address: LO, port: 1 }, { espSequence: '16bit' as 'esn' })).toThrow(expect.objectContaining({ code: 'ERR_HIP_INVALID_ARGUMENT' }));
    await expect(HipHost.create({ udp: false, espSequenceV1: 'hipd' as 'esn' })).rejects.toMatchObject({ code: 'ERR_HIP_BAD_OPTION', details: { option: 'espSequenceV1' } });
  });

  it('never wraps: once the 32-bit space is used up, packets are dropped and counted, nothing throws', async () => {
    const a = await host({ identity: RSA_A, espSequenceV1: '32bit' });
    const b = await host({ identity: RSA_B, espSequenceV1: '32bit' });
    a.peers.add(b.hit(1), { address: LO, port: b.udpAddress!.port });
    const atB = received(b, 7);
    await a.connect(b.hit(1));
    const s = a.sessionFor(b.hit(1))!;
    // Fast-forward the SA to its last sequence number (4 billion packets would take hours).
    const sa = s.sa;
    (s as { outbound: OutboundSa }).outbound = new OutboundSa(
      { suite: sa.suite, spi: sa.peerSpi, encKey: sa.outbound.enc, authKey: sa.outbound.auth },
      { sequence: '32bit', initialSeq: 0xfffffffen },
    );
    await a.sendDatagram(b.hit(1), 8, 7, enc('the last one'));
    await until(() => atB.length === 1, 5000, 'the last packet arrives');
    await a.sendDatagram(b.hit(1), 8, 7, enc('one too many'));
    expect(a.associationStats(b.hit(1))!.drops).toEqual({ 'seq-exhausted': 1 });
    expect(s.outbound!.seq).toBe(0xffffffffn);
  });
});
