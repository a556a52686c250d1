/**
 * CPU per ESP seal (AES-128-GCM, 16-byte ICV) of an 8-byte header plus data, given as two pieces
 * (`sealParts`: up to 16 KiB gathered into one staging buffer and encrypted by one cipher
 * update(), larger ones one update() per piece, nothing copied) or joined by the caller first
 * (`seal`: one update(), the data copied twice), at a few sizes. Medians of 5 runs.
 * npx tsx bench/seal-parts.ts
 */
import { randomBytes } from 'node:crypto';
import { OutboundSa } from '../src/esp/sa.js';

const sa = new OutboundSa({ suite: 13, spi: 0x1234, encKey: randomBytes(20), authKey: new Uint8Array(0) });
const header = new Uint8Array(8);

function cpuPerCall(fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn();
  const c0 = process.cpuUsage();
  const n = 100_000;
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (const size of [64, 1400, 16384, 32768]) {
  const data = new Uint8Array(size);
  const parts: number[] = [];
  const joined: number[] = [];
  for (let k = 0; k < 5; k++) {
    parts.push(cpuPerCall(() => void sa.sealParts([header, data], 17)));
    joined.push(
      cpuPerCall(() => {
        const j = new Uint8Array(8 + size);
        j.set(header);
        j.set(data, 8);
        void sa.seal(j, 17);
      }),
    );
  }
  console.log(`${String(size).padStart(5)} B: pieces ${median(parts).toFixed(2)} µs, joined ${median(joined).toFixed(2)} µs`);
}
