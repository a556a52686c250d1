/**
 * An echo server reached by its HIT: streams and datagrams on port 7 are sent back as they
 * come. Pair it with echo-client.ts in another terminal.
 *
 * Run: `npx tsx examples/echo-server.ts [--key FILE] [--address 127.0.0.1] [--port 10500]`
 * It prints its HIT and the command that reaches it, then serves until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { createHost, HostIdentity, loadOrCreateIdentity } from '../src/index.js';

const { values } = parseArgs({
  options: { key: { type: 'string' }, address: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } },
});
// With --key, the same HIT on every run: the key file is created (mode 0600) the first time.
const identity = values.key ? await loadOrCreateIdentity(values.key) : HostIdentity.generate();
const host = await createHost({ identity, udp: { address: values.address, port: Number(values.port) } });
const { address, port } = host.address().udp!;

host.on('established', (e) => console.log(`established with ${e.peerHit} (${e.carrier} ${e.address}:${e.port}, ${e.elapsedMs.toFixed(1)} ms)`));
host.on('disconnect', (e) => console.log(`association with ${e.peerHit} closed (${e.by})`));
host.on('error', (e) => console.error(`${e.code}: ${e.message}`));

// Streams: whatever a peer writes comes back to it.
await host
  .createServer((stream) => {
    console.log(`stream from ${stream.remoteHit} port ${stream.remotePort}`);
    stream.pipe(stream);
    stream.on('error', (e) => console.error(`stream from ${stream.remoteHit}: ${e.message}`));
  })
  .listen(7);

// Datagrams: each goes back to the HIT and port it came from.
const sock = host.createSocket('udp');
await sock.bind(7);
sock.on('message', (data, from) => {
  console.log(`datagram of ${data.length} bytes from ${from.hit} port ${from.port}`);
  sock.send(data, from.hit, from.port).catch((e: unknown) => console.error(String(e)));
});

console.log(`echo server HIT ${host.hit} on udp ${address}:${port}`);
console.log(`try: npx tsx examples/echo-client.ts ${host.hit} ${address}:${port} "hello"`);

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void host.close(500).then(() => process.exit(0));
  });
}
