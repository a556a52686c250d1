/**
 * Issue 8 item 1 over real loopback sockets: an on-path relay records the initiator's I2 and
 * sends it again from the initiator's address:port, byte-exact after the association closed,
 * and with only the checksum changed into the live association. The responder must never
 * install the same keys twice, nor restart the sequence numbers of a live SA.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { PacketType } from '../../src/wire/index.js';

const hosts: HipHost[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
  for (const s of sockets.splice(0)) s.close();
});

/**
 * A one-client man in the middle: the initiator sends to it, it forwards from its own port to
 * the responder (which therefore sees the relay's port as the initiator's) and relays replies
 * back. It keeps every datagram it forwarded to the responder and can inject more from there.
 */
async function mitm(target: { address: string; port: number }) {
  const sock = createSocket('udp4');
  sockets.push(sock);
  let client: { address: string; port: number } | undefined;
  const toTarget: Uint8Array[] = [];
  const fromTarget: Uint8Array[] = [];
  sock.on('message', (msg, rinfo) => {
    if (rinfo.port === target.port && rinfo.address === target.address) {
      fromTarget.push(new Uint8Array(msg));
      if (client) sock.send(msg, client.port, client.address);
    } else {
      client = { address: rinfo.address, port: rinfo.port };
      toTarget.push(new Uint8Array(msg));
      sock.send(msg, target.port, target.address);
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    port: sock.address().port,
    toTarget,
    fromTarget,
    /** Send bytes to the responder from the relay's (= the initiator's, as seen) address:port. */
    inject: (bytes: Uint8Array) => new Promise<void>((resolve) => sock.send(bytes, target.port, target.address, () => resolve())),
  };
}

/** HIP control packet of a type in a UDP payload (zero marker, then the HIP header). */
const isHip = (d: Uint8Array, type: number) => d.length > 8 && d[0] === 0 && d[1] === 0 && d[2] === 0 && d[3] === 0 && (d[6]! & 0x7f) === type;
/** ESP sequence number (low 32 bits) of a UDP payload that is ESP (non-zero SPI). */
const espSeq = (d: Uint8Array) => (d.length > 8 && (d[0]! | d[1]! | d[2]! | d[3]!) !== 0 ? Buffer.from(d).readUInt32BE(4) : undefined);

async function until(pred: () => boolean, step = 5): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, step));
}

describe('a replayed I2 over real UDP sockets', () => {
  it('into a live association (checksum changed): no second install, the SA sequence keeps counting', async () => {
    const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
    hosts.push(b);
    const relay = await mitm({ address: '127.0.0.1', port: b.udpAddress!.port });
    const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
    hosts.push(a);
    a.peers.add(b.hit(), { address: '127.0.0.1', port: relay.port });
    let installs = 0;
    b.on('established', () => installs++);
    b.bindDatagramPort(7, (data, info) => void b.sendDatagram(info.hit, 7, info.port, data));
    const echoes: string[] = [];
    a.bindDatagramPort(5000, (d) => echoes.push(Buffer.from(d).toString()));
    for (let i = 0; i < 3; i++) await a.sendDatagram(b.hit(), 5000, 7, new TextEncoder().encode(`m${i}`));
    await until(() => echoes.length === 3);
    expect(installs).toBe(1);
    const seqsBefore = relay.fromTarget.map(espSeq).filter((s): s is number => s !== undefined);
    expect(seqsBefore).toEqual([1, 2, 3]);

    const i2 = relay.toTarget.find((d) => isHip(d, PacketType.I2))!.slice();
    i2[8] = i2[8]! ^ 0x5a; // HIP checksum (after the 4-byte marker); HIP over UDP ignores it
    const dupBefore = b.engine.stats.dropped.duplicate ?? 0;
    await relay.inject(i2);
    await until(() => (b.engine.stats.dropped.duplicate ?? 0) > dupBefore || installs > 1);

    await a.sendDatagram(b.hit(), 5000, 7, new TextEncoder().encode('after'));
    await until(() => echoes.length === 4 || installs > 1);
    expect(installs).toBe(1);
    const seqsAfter = relay.fromTarget.map(espSeq).filter((s): s is number => s !== undefined);
    expect(seqsAfter).toEqual([1, 2, 3, 4]); // not restarted at 1
  }, 15_000);

  it('byte-exact after the association closed: refused as a replay, nothing installed', async () => {
    const b = await HipHost.create({ udp: { address: '127.0.0.1' }, engine: { closedLingerMs: 20 } });
    hosts.push(b);
    const relay = await mitm({ address: '127.0.0.1', port: b.udpAddress!.port });
    const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
    hosts.push(a);
    a.peers.add(b.hit(), { address: '127.0.0.1', port: relay.port });
    let installs = 0;
    b.on('established', () => installs++);
    await a.connect(b.hit());
    await until(() => installs === 1);
    const closed = new Promise((resolve) => b.once('closed', resolve));
    await a.close(b.hit());
    await closed;
    await until(() => b.engine.associationCount === 0); // lingered, then forgotten

    const i2 = relay.toTarget.find((d) => isHip(d, PacketType.I2))!;
    for (let n = 0; n < 5; n++) await relay.inject(i2);
    await until(() => (b.engine.stats.dropped.replay ?? 0) === 5 || installs > 1);
    expect(installs).toBe(1);
    expect(b.isEstablished(a.hit())).toBe(false);
    expect(b.engine.associationCount).toBe(0);
    expect(relay.fromTarget.filter((d) => isHip(d, PacketType.R2))).toHaveLength(1);
  }, 15_000);
});
