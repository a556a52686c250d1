/**
 * Watch a base exchange one packet at a time.
 *
 * Two hosts run in this process with a small UDP relay between them. Both hold received HIP
 * packets back (BEX stepping, what libhipl calls BEX feedback); the relay prints a one-line
 * summary of every packet it carries, then tells the receiving host to process exactly that
 * one, and prints the steps it caused. After the BEX, one datagram shows what ESP looks like,
 * and a CLOSE / CLOSE_ACK ends the association.
 *
 * Run: `npx tsx examples/bex-stepwise.ts [--libhipl-cleartext] [--delay MS]`
 *   --libhipl-cleartext  HIPv1 as libhipl speaks it (RSA identities; data in clear text)
 *   --delay MS           pause between steps, to read along
 */
import { createSocket, type Socket } from 'node:dgram';
// In a project of your own: from 'hipl' and 'hipl/wire'.
import { createHost, HostIdentity, type HiplHost } from '../src/index.js';
import { packetTypeName, paramTypeName, parsePacket } from '../src/wire/index.js';

// (--v1 is the old name of --libhipl-cleartext)
const v1 = process.argv.includes('--libhipl-cleartext') || process.argv.includes('--v1');
const delayArg = process.argv.indexOf('--delay');
const delayMs = delayArg > 0 ? Number(process.argv[delayArg + 1] ?? 0) : 0;
const LO = '127.0.0.1';
const t0 = performance.now();

function stamp(): string {
  return `${(performance.now() - t0).toFixed(1).padStart(8)} ms`;
}

/** One line about a datagram on the wire: a HIP packet behind the zero marker, or ESP. */
function summary(d: Uint8Array): string {
  const marker = d.length >= 4 && d[0] === 0 && d[1] === 0 && d[2] === 0 && d[3] === 0;
  if (!marker) {
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (d.length < 8) return `${d.length} bytes (not HIP)`;
    const what = v1 ? 'data in clear text (libhipl profile)' : `ESP SPI 0x${dv.getUint32(0).toString(16).padStart(8, '0')} seq ${dv.getUint32(4)}`;
    return `${what}, ${d.length} bytes`;
  }
  try {
    const p = parsePacket(d.subarray(4), { lenient: true });
    const params = p.params.map((x) => paramTypeName(x.type)).join(' ');
    return `${packetTypeName(p.type).padEnd(9)} HIPv${p.version}, ${d.length - 4} bytes: ${params || '(no parameters)'}`;
  } catch (e) {
    return `unparsable HIP packet (${e instanceof Error ? e.message : String(e)})`;
  }
}

async function bind(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, LO, resolve));
  return s;
}

const idOpts = v1 ? ({ algorithm: 'rsa', rsaBits: 2048 } as const) : {};
const alice = await createHost({ identity: HostIdentity.generate(idOpts), udp: { address: LO }, libhiplClearText: v1 });
const bob = await createHost({ identity: HostIdentity.generate(idOpts), udp: { address: LO }, libhiplClearText: v1 });
const name = (h: HiplHost) => (h === alice ? 'alice' : 'bob');
console.log(`alice ${alice.hit}\nbob   ${bob.hit}\n`);

// The relay: alice talks to `toBob` as if it were bob, bob answers `toAlice` as if it were alice.
const toBob = await bind();
const toAlice = await bind();
let aliceAt: { address: string; port: number } | undefined;
let stepping = true;
const queue: Promise<void>[] = [];

async function carry(from: HiplHost, to: HiplHost, d: Buffer, out: Socket, port: number): Promise<void> {
  console.log(`${stamp()}  ${name(from).padStart(5)} -> ${name(to).padEnd(5)}  ${summary(d)}`);
  out.send(d, port, LO);
  const control = d.length >= 4 && d.readUInt32BE(0) === 0;
  if (!control || !stepping) return;
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  // Process exactly the packet just delivered; its steps print as they happen ('bex' events).
  await to.core.stepBex();
}

toBob.on('message', (d, rinfo) => {
  aliceAt = rinfo;
  queue.push(carry(alice, bob, d, toAlice, bob.address().udp!.port));
});
toAlice.on('message', (d) => {
  if (aliceAt) queue.push(carry(bob, alice, d, toBob, aliceAt.port));
});

alice.core.setBexStepping(true);
bob.core.setBexStepping(true);
for (const h of [alice, bob]) {
  h.on('bex', (e) => console.log(`${stamp()}  ${name(h).padStart(5)}: ${e.step} (${e.packetName}, ${e.elapsedMs.toFixed(1)} ms into this BEX)`));
  h.on('established', (e) => console.log(`${stamp()}  ${name(h).padStart(5)}: ESTABLISHED with ${e.peerHit} (HIPv${e.version}, ${e.role}, suite ${e.suite})`));
  h.on('disconnect', (e) => console.log(`${stamp()}  ${name(h).padStart(5)}: association closed (${e.by})`));
}

alice.peers.add(bob.hit, { address: LO, port: toBob.address().port });
const sink = bob.createSocket('udp');
await sink.bind(v1 ? bob.address().udp!.port : 7);
const received = new Promise<string>((resolve) => sink.once('message', (data) => resolve(data.toString())));
const sock = alice.createSocket('udp');
if (v1) await sock.bind(alice.address().udp!.port);
await sock.send('Hello Sailor!', bob.hit, v1 ? bob.address().udp!.port : 7);
console.log(`${stamp()}  bob received "${await received}"`);

// After the BEX nothing needs holding back: CLOSE and CLOSE_ACK are processed as they come.
stepping = false;
alice.core.setBexStepping(false);
bob.core.setBexStepping(false);
await alice.disconnect(bob.hit);
await Promise.all(queue);
await Promise.all([alice.close(100), bob.close(100)]);
toBob.close();
toAlice.close();
