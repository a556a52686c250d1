/**
 * Issue 9 through the libhipl-shaped API: the peer a socket sends to restarts (same identity and
 * port, state lost) and drops everything silently. The sender's data is not lost: the host
 * notices, runs the BEX again and resends, and later sends reach the new peer too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, HIPL_LIB_LOG_NONE, IPPROTO_UDP, SOCK_DGRAM, hiplAddPeerInfo, hiplBind, hiplLibInitAll, hiplLibShutdownAll, hiplSendto, hiplSocket } from '../../src/api/index.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';

const LO = '127.0.0.1';
const hosts: HipHost[] = [];

afterEach(async () => {
  await hiplLibShutdownAll();
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(0)));
});

/** A receiver host whose datagram port is its carrier port (as a libhipl socket's is). */
async function receiver(identity: HostIdentity, port = 0): Promise<{ host: HipHost; got: string[] }> {
  const host = await HipHost.create({ identity, udp: { address: LO, port } });
  hosts.push(host);
  const got: string[] = [];
  host.bindDatagramPort(host.udpAddress!.port, (d) => got.push(Buffer.from(d).toString()));
  return { host, got };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

describe('libhipl-style API: a peer that restarts and stays silent', () => {
  it('hiplSendto data sent after the restart reaches the restarted peer', async () => {
    expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE, { engine: { peerLossMs: 300, retransmit: { initialMs: 100 } } })).toBe(0);
    const id = HostIdentity.generate();
    const first = await receiver(id);
    const port = first.host.udpAddress!.port;
    const s = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    expect(await hiplBind(s, { address: LO, port: 0 })).toBe(0);
    expect(await hiplAddPeerInfo(id.hitString(), LO)).toBe(0);
    expect(await hiplSendto(s, 'before', 6, 0, id.hitString(), port)).toBe(6);
    await until(() => first.got.length === 1);

    // Crash: no CLOSE, and the new process knows nothing.
    await first.host.shutdown(0);
    const second = await receiver(id, port);
    for (const m of ['after-1', 'after-2']) expect(await hiplSendto(s, m, m.length, 0, id.hitString(), port)).toBe(m.length);
    await until(() => second.got.includes('after-2'));
    expect(second.got.filter((m) => m.startsWith('after-'))).toEqual(['after-1', 'after-2']);
    expect(await hiplSendto(s, 'after-3', 7, 0, id.hitString(), port)).toBe(7);
    await until(() => second.got.includes('after-3'));
  }, 15_000);
});
