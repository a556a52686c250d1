import { createCipheriv, randomBytes } from 'node:crypto';
const key = randomBytes(16), nonce = Buffer.alloc(12), aad = Buffer.alloc(12);
function bench(fn: () => void): number { for (let i = 0; i < 20000; i++) fn(); const c0 = process.cpuUsage(); const N = 100000; for (let i = 0; i < N; i++) fn(); const c = process.cpuUsage(c0); return (c.user + c.system) / N; }
for (const size of [64, 1400]) {
  const data = new Uint8Array(size);
  const len = 8 + size + 2;
  const r: Record<string, number[]> = { copyback: [], pieces: [], bare: [] };
  for (let k = 0; k < 5; k++) {
    r.copyback!.push(bench(() => { const out = Buffer.allocUnsafe(16 + len + 16); const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 }); c.setAAD(aad); out.set(data, 24); c.update(out.subarray(16, 16 + len)).copy(out, 16); c.final(); c.getAuthTag().copy(out, 16 + len); }));
    r.pieces!.push(bench(() => { const head = Buffer.allocUnsafe(16); const st = Buffer.allocUnsafe(len); st.set(data, 8); const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 }); c.setAAD(aad); const ct = c.update(st); c.final(); const tag = c.getAuthTag(); void [head, ct, tag]; }));
    r.bare!.push(bench(() => { const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 }); c.setAAD(aad); c.update(data); c.final(); c.getAuthTag(); }));
  }
  const med = (a: number[]): string => [...a].sort((x, y) => x - y)[2]!.toFixed(2);
  console.log(size, Object.entries(r).map(([k, v]) => `${k} ${med(v)}`).join(', '), 'µs');
}
