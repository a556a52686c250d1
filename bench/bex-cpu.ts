/**
 * CPU cost of a whole HIPv2 base exchange (both hosts, in memory, no sockets), per provider and
 * identity type. Run: npx tsx bench/bex-cpu.ts [rounds]
 * Prints the median over 5 runs of `rounds` exchanges each, in ms of CPU per BEX.
 */
import { HipEngine } from '../src/core/engine.js';
import { getProvider } from '../src/crypto/get-provider.js';
import { HostIdentity } from '../src/crypto/identity.js';

const rounds = Number(process.argv[2] ?? 200);

function bexOnce(a: HipEngine, b: HipEngine, t: number): void {
  const la = { key: 'a' };
  const lb = { key: 'b' };
  a.connect(b.localHit(), [lb], t);
  for (let moved = true; moved; ) {
    moved = false;
    for (let x = a.pollTransmit(); x; x = a.pollTransmit(), moved = true) b.handlePacket(x.packet, la, t);
    for (let x = b.pollTransmit(); x; x = b.pollTransmit(), moved = true) a.handlePacket(x.packet, lb, t);
  }
  while (a.pollEvent());
  while (b.pollEvent());
  if (!a.association(b.localHit())) throw new Error('no association');
}

function measure(provider: 'node' | 'noble', algorithm: 'ecdsa-p256' | 'rsa', dhGroups: number[]): number {
  const idB = HostIdentity.generate({ algorithm });
  const b = new HipEngine(idB, { dhGroups }, { provider: getProvider(provider) });
  const samples: number[] = [];
  for (let run = 0; run < 5; run++) {
    const initiators = Array.from({ length: rounds }, () => new HipEngine(HostIdentity.generate({ algorithm: 'ecdsa-p256' }), { dhGroups }, { provider: getProvider(provider) }));
    for (const a of initiators.slice(0, 3)) bexOnce(a, b, 0); // warm up
    for (const a of initiators) a.localHit(); // per-host setup (key import, HIT) is not per-BEX work
    const start = process.cpuUsage();
    for (const a of initiators.slice(3)) bexOnce(a, b, 1);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / 1000 / (rounds - 3));
  }
  samples.sort((x, y) => x - y);
  return samples[2]!;
}

for (const [provider, algorithm, groups] of [
  ['node', 'ecdsa-p256', [7]],
  ['node', 'rsa', [7]],
  ['node', 'ecdsa-p256', [3]],
  ['noble', 'ecdsa-p256', [7]],
] as const) {
  const ms = measure(provider, algorithm, [...groups]);
  console.log(`${provider.padEnd(5)} responder ${algorithm.padEnd(10)} DH ${groups.join(',')}: ${ms.toFixed(3)} ms CPU per BEX (both hosts, median of 5)`);
}
