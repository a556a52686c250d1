import { it } from 'vitest';
import { Sim, payload } from './host/stream-protocol-sim.js';
it('dbg', () => {
  for (const loss of [0, 0.01, 0.05]) {
    const cfgs: any[] = [{}, { sendWindowSegments: 1024 }, { sendWindowSegments: 1024, sendBufferBytes: 4 << 20 }];
    for (const config of cfgs) {
      const sim = new Sim({ seed: 3, loss, minDelay: 10, maxDelay: 10, config });
      const n = 8 << 20;
      sim.send('a', payload(n, 1), { end: true });
      sim.open();
      sim.run({ until: () => sim.ep.b.receivedBytes >= n, maxTime: 600_000 });
      const a: any = sim.a;
      console.log(loss, JSON.stringify(config), (n / sim.now / 1000).toFixed(2), 'MB/s', JSON.stringify(a.stats), 'cwnd', a.cwnd, 'srtt', a.srtt?.toFixed(1));
    }
  }
});
