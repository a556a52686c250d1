/**
 * Issue 9, section 2: a datagram socket of a libhipl host must receive the peer's clear-text
 * replies; they carry no HIP ports and arrive at the carrier's port, so the socket takes that
 * port (bind() picks it) and any other port is refused with a clear error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { createHost, type HiplHost } from '../../src/socket/index.js';

const LO = '127.0.0.1';
const hosts: HiplHost[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close(100)));
});

async function libhiplHost(): Promise<HiplHost> {
  const h = await createHost({ libhiplClearText: true, udp: { address: LO }, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }) });
  hosts.push(h);
  return h;
}

describe('libhipl mode, datagram sockets', () => {
  it('an unbound socket gets the replies of a libhipl peer; a socket on another port is refused clearly', async () => {
    const a = await libhiplHost();
    const b = await libhiplHost();
    a.peers.add(b.hit, { address: LO, port: b.address().udp!.port });
    const echo = b.createSocket('udp');
    await echo.bind();
    echo.on('message', (d, from) => void echo.send(d, from.hit, from.port));
    const other = a.createSocket('udp');
    await expect(other.bind(7)).rejects.toMatchObject({ code: 'ERR_HIP_LIBHIPL_PORT' });
    other.close();
    const sock = a.createSocket('udp');
    const reply = new Promise<string>((resolve) => sock.once('message', (d) => resolve(d.toString())));
    await sock.send('ping in clear', b.hit, b.address().udp!.port);
    const got = await Promise.race([reply, new Promise<string>((resolve) => setTimeout(() => resolve('no reply'), 3000))]);
    expect(got).toBe('ping in clear');
    expect(sock.address()?.port).toBe(a.address().udp!.port);
  });
});
