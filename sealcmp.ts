import { OutboundSa } from './src/esp/sa.js';
import { randomBytes } from 'node:crypto';
const sa = new OutboundSa({ suite: 13, spi: 0x1234, encKey: randomBytes(20), authKey: new Uint8Array(0) });
const hdr = new Uint8Array(8);
function bench(label: string, fn: () => void): number { for (let i = 0; i < 20000; i++) fn(); const c0 = process.cpuUsage(); const N = 100000; for (let i = 0; i < N; i++) fn(); const c = process.cpuUsage(c0); return (c.user + c.system) / N; }
for (const size of [64, 1400]) {
  const data = new Uint8Array(size);
  const r: Record<string, number[]> = { parts: [], joined: [] };
  for (let k = 0; k < 5; k++) {
    r.parts!.push(bench('parts', () => void sa.sealParts([hdr, data], 17)));
    r.joined!.push(bench('joined', () => { const j = new Uint8Array(8 + size); j.set(hdr); j.set(data, 8); void sa.seal(j, 17); }));
  }
  const med = (a: number[]): string => [...a].sort((x, y) => x - y)[2]!.toFixed(2);
  console.log(size, 'parts', med(r.parts!), 'joined', med(r.joined!), 'µs');
}
