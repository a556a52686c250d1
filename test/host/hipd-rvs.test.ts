/**
 * Issue 13, rendezvous as hipd does it, over real UDP sockets on loopback: HIPv1 on all three
 * ends, the initiator at port 10500 as every hipd is (plain-udp mode). The responder registers
 * with a hipl rendezvous server (REG_INFO / REG_REQUEST / REG_RESPONSE in the BEX), the
 * initiator sends its I1 to the server, the server relays it with FROM and RVS_HMAC only (the
 * form a hipd client needs: RELAY_FROM would make hipd answer through the server), and the
 * responder's R1 comes back directly, from an address the I1 never went to, with VIA_RVS. The
 * initiator accepts it there and the association runs between the two, in hipd's ESP form.
 * Parameter lists are compared with hipd-v1-rvs.pcap.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';
import { createRelay, type RelayServer } from '../../src/relay/index.js';
import { extractHipPackets } from '../../src/wire/ip-frames.js';
import { readCapture } from '../../src/wire/pcap-reader.js';
import { parsePacket } from '../../src/wire/packet.js';
import { PacketType, ParamType } from '../../src/wire/constants.js';
import { getParam, type HipPacket } from '../../src/wire/types.js';
import { CAPTURES_DIR } from '../helpers/fixtures.js';

const LO = '127.0.0.1';
const rsa = () => HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const params = (p: HipPacket) => p.params.map((q) => q.type);
const read = (file: string) => extractHipPackets(readCapture(readFileSync(file))).map((h) => ({ ...h, pkt: parsePacket(h.hip) }));

describe('rendezvous with hipd-style hosts (HIPv1, port 10500), real sockets', () => {
  it('registers, relays the I1 with FROM + RVS_HMAC, and the initiator accepts the direct R1 with VIA_RVS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hipl-hipd-rvs-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // A loopback address of its own, so port 10500 is free whatever else runs.
    const initiatorAddress = `127.77.${randomInt(1, 255)}.${randomInt(1, 255)}`;
    const responder = await HipHost.create({ identity: rsa(), udp: { address: LO }, espSequenceV1: '32bit', pcap: join(dir, 'r.pcap') });
    cleanup.push(() => responder.shutdown(100));
    const rvs: RelayServer = await createRelay({ identity: rsa(), address: LO, port: 0, whitelist: [responder.hit(1)] });
    cleanup.push(() => rvs.close());
    const reg = await responder.registerWith({ hit: rvs.host.hit(1), address: LO, port: rvs.address.port, lifetime: 600 });
    expect(reg.types).toEqual([1]);

    const initiator = await HipHost.create({ identity: rsa(), udp: { address: initiatorAddress, port: 10500 }, espSequenceV1: '32bit', pcap: join(dir, 'i.pcap') });
    cleanup.push(() => initiator.shutdown(100));
    initiator.peers.add(responder.hit(1), { address: LO, port: rvs.address.port });
    const got: string[] = [];
    responder.bindDatagramPort(7, (d, info) => {
      got.push(Buffer.from(d).toString());
      void responder.sendDatagram(info.hit, 7, info.port, d);
    });
    const echoed = new Promise<string>((r) => initiator.bindDatagramPort(9, (d) => r(Buffer.from(d).toString())));
    const info = await initiator.connect(responder.hit(1));
    // The R1 came from the responder itself, not from the server the I1 went to.
    expect(info).toMatchObject({ version: 1, espSequence: '32bit', address: LO, port: responder.udpAddress!.port });
    expect(info.port).not.toBe(rvs.address.port);
    await initiator.sendDatagram(responder.hit(1), 9, 7, new TextEncoder().encode('via hipd-style rendezvous'));
    expect(await echoed).toBe('via hipd-style rendezvous');
    expect(rvs.stats()).toMatchObject({ forwarded: 1, clients: 1 });
    await Promise.all([responder.shutdown(100), initiator.shutdown(100)]);

    const capture = read(`${CAPTURES_DIR}hipd-v1-rvs.pcap`);
    const atResponder = read(join(dir, 'r.pcap'));
    // Registration BEX with the server: the parameters hipd's responder and server exchanged.
    const regBex = atResponder.filter((h) => h.pkt.type <= PacketType.R2).slice(0, 4);
    expect(regBex.map((h) => params(h.pkt))).toEqual(capture.slice(0, 4).map((h) => params(h.pkt)));
    // The relayed I1 (FROM = the initiator's address, RVS_HMAC) and the responder's R1 (VIA_RVS).
    const relayed = atResponder.find((h) => h.pkt.type === PacketType.I1 && h.pkt.params.length > 0)!;
    expect(params(relayed.pkt)).toEqual(params(capture[5]!.pkt));
    expect(Array.from(getParam(relayed.pkt, ParamType.FROM)!.address.subarray(12)).join('.')).toBe(initiatorAddress);
    const atInitiator = read(join(dir, 'i.pcap'));
    const r1 = atInitiator.find((h) => h.pkt.type === PacketType.R1)!;
    expect(params(r1.pkt)).toEqual(params(capture[6]!.pkt));
    expect(r1.srcPort).toBe(responder.udpAddress!.port);
    expect(Array.from(getParam(r1.pkt, ParamType.VIA_RVS)!.addresses[0]!.subarray(12)).join('.')).toBe(LO);
    expect(got).toEqual(['via hipd-style rendezvous']);
  });
});
