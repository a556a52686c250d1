/**
 * ESP throughput, 1400-byte payloads (a typical datagram under a 1500-byte MTU), per suite.
 * Run: `npx vitest bench --run bench/esp.bench.ts`. MB/s = hz × 1400 / 10^6.
 */
import { bench, describe } from 'vitest';
import { InboundSa, OutboundSa } from '../src/esp/sa.js';

const PAYLOAD = new Uint8Array(1400).fill(0x5a);

function keys(suite: number) {
  const enc = suite === 7 ? 0 : suite === 9 ? 32 : suite >= 12 ? 20 : 16;
  const auth = suite === 1 ? 20 : suite >= 12 ? 0 : 32;
  return { suite, spi: 0x1234, encKey: new Uint8Array(enc).fill(1), authKey: new Uint8Array(auth).fill(2) };
}

for (const suite of [1, 7, 8, 9, 12, 13]) {
  describe(`suite ${suite}, 1400-byte payload`, () => {
    const sealer = new OutboundSa(keys(suite));
    bench('seal', () => {
      sealer.seal(PAYLOAD, 17);
    });

    const out = new OutboundSa(keys(suite));
    const inbound = new InboundSa(keys(suite));
    bench('seal + open', () => {
      inbound.open(out.seal(PAYLOAD, 17));
    });
  });
}
