/**
 * Wall-clock time of a base exchange over real UDP sockets on loopback, direct vs through a
 * rendezvous server (RFC 8004), interleaved so both see the same machine load.
 * Run: npx tsx bench/bex-rvs.ts [rounds]
 * Prints the median and the 90th percentile of each, in ms, from the initiator's first I1 to
 * its established association.
 */
import { HipHost } from '../src/host/host.js';
import { createRelay } from '../src/relay/index.js';

const rounds = Number(process.argv[2] ?? 30);
const responder = await HipHost.create({ udp: { address: '127.0.0.1' } });
const rvs = await createRelay({ address: '127.0.0.1', port: 0, whitelist: [responder.hit()], forwardPerSecond: 1000, log: () => undefined });
await responder.registerWith({ hit: rvs.hit, address: '127.0.0.1', port: rvs.address.port, lifetime: 3600 });

async function once(viaRvs: boolean): Promise<number> {
  const initiator = await HipHost.create({ udp: { address: '127.0.0.1' } });
  initiator.peers.add(responder.hit(), { address: '127.0.0.1', port: viaRvs ? rvs.address.port : responder.udpAddress!.port });
  const t0 = performance.now();
  await initiator.connect(responder.hit());
  const ms = performance.now() - t0;
  await initiator.shutdown(500);
  return ms;
}

const direct: number[] = [];
const relayed: number[] = [];
for (let i = 0; i < 3; i++) await once(i % 2 === 0); // warm up
for (let i = 0; i < rounds; i++) {
  direct.push(await once(false));
  relayed.push(await once(true));
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
console.log(`BEX over loopback UDP, ${rounds} rounds each (ms): direct median ${q(direct, 0.5).toFixed(1)} p90 ${q(direct, 0.9).toFixed(1)}; via RVS median ${q(relayed, 0.5).toFixed(1)} p90 ${q(relayed, 0.9).toFixed(1)}`);
console.log(`server: ${JSON.stringify(rvs.stats())}`);
await responder.shutdown(500);
await rvs.close();
