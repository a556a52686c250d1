/**
 * The `pcap` and `keylog` options on a real exchange: two hosts on loopback, one records every
 * HIP and ESP packet and logs its SA keys; Wireshark's dissector must read the HIP packets, and
 * with the key log decrypt the ESP and show our plaintext and ports.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { tsharkDecodeAsUdpEsp, tsharkEspOptions } from '../../src/host/keylog.js';
import { extractHipPackets, readCapture } from '../../src/wire/index.js';
import { runTshark, skipWithoutTshark } from '../helpers/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'hipl-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function exchange(suite: number) {
  const pcap = join(dir, `x${suite}.pcap`);
  const keylog = join(dir, `x${suite}.keys`);
  const a = await HipHost.create({ udp: { address: '127.0.0.1' }, pcap, keylog, engine: { espSuites: [suite] } });
  const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
  a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
  const got = new Promise<string>((resolve) => b.bindDatagramPort(40007, (d) => resolve(Buffer.from(d).toString())));
  await a.sendDatagram(b.hit(), 4242, 40007, new TextEncoder().encode(`secret via suite ${suite}`));
  expect(await got).toBe(`secret via suite ${suite}`);
  await a.close(b.hit());
  await a.shutdown();
  await b.shutdown();
  return { pcap, keylog, port: a.udpAddress!.port, peerPort: b.udpAddress!.port };
}

describe('pcap and keylog options', () => {
  it('record the BEX, the ESP and the CLOSE; files are 0600', async () => {
    const { pcap, keylog } = await exchange(13);
    expect(statSync(pcap).mode & 0o777).toBe(0o600);
    expect(statSync(keylog).mode & 0o777).toBe(0o600);
    const types = extractHipPackets(readCapture(new Uint8Array(readFileSync(pcap)))).map((h) => h.hip[2]! & 0x7f);
    expect(types).toEqual([1, 2, 3, 4, 18, 19]);
    expect(readFileSync(keylog, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  for (const suite of [13, 8]) {
    it.skipIf(skipWithoutTshark())(`tshark reads our HIP packets and decrypts the ESP (suite ${suite})`, async () => {
      const { pcap, keylog, port, peerPort } = await exchange(suite);
      const hip = await runTshark(['-r', pcap, '-d', `udp.port==${port},hip`, '-d', `udp.port==${peerPort},hip`, '-Y', 'hip', '-T', 'fields', '-e', 'hip.packet_type']);
      expect(hip.trim().split('\n')).toEqual(['1', '2', '3', '4', '18', '19']);
      const lines = readFileSync(keylog, 'utf8').split('\n');
      const esp = await runTshark(['-r', pcap, ...tsharkDecodeAsUdpEsp(peerPort), ...tsharkEspOptions(lines), '-Y', 'esp && udp.dstport == 40007', '-T', 'fields', '-E', 'occurrence=l', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'data.data']);
      const [sport, dport, data] = esp.trim().split('\t');
      expect([sport, dport]).toEqual(['4242', '40007']);
      expect(Buffer.from(data!, 'hex').toString()).toBe(`secret via suite ${suite}`);
    });
  }
});
