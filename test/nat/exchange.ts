/** Driving two scriptable peers (fixtures/nat-peer.ts) of a real-NAT test: data both ways. */
import { fileURLToPath } from 'node:url';
import type { Peer } from '../host/processes.js';

/** The scriptable hipl peer. */
export const NAT_PEER = fileURLToPath(new URL('./fixtures/nat-peer.ts', import.meta.url));
/** The rendezvous server process. */
export const RVS = fileURLToPath(new URL('./fixtures/rvs.ts', import.meta.url));

/** What a nat-peer prints first. */
export type Ready = { hit: string; udp: { port: number }; tcp?: { port: number } };

/** Send a datagram from `a` and wait for it at `b`. */
export async function datagram(a: Peer, b: Peer, text: string, timeoutMs = 10_000): Promise<void> {
  const from = b.lines.length;
  a.send({ op: 'send', text });
  await b.waitLine((l) => l.datagram === text, timeoutMs, from);
}

/** Write on the current stream at `a` and wait until `b` has read it. */
export async function streamText(a: Peer, b: Peer, text: string, timeoutMs = 10_000): Promise<void> {
  const from = b.lines.length;
  a.send({ op: 'write', text });
  let got = '';
  await b.waitLine((l) => typeof l.streamData === 'string' && (got += l.streamData).includes(text), timeoutMs, from);
}

/** Datagrams and a stream both ways between an established initiator `i` and responder `r`. */
export async function bothWays(i: Peer, r: Peer): Promise<void> {
  await datagram(i, r, 'up-1');
  await datagram(r, i, 'down-1');
  i.send({ op: 'openStream' });
  await streamText(i, r, 'stream-up');
  await r.waitFor('accepted');
  await streamText(r, i, 'stream-down');
}
