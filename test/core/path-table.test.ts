/**
 * The locator table of one association (src/core/paths.ts), unit by unit: which path a flood of
 * forged sources may push out, when data may follow an announced but unverified address and how
 * far (RFC 8046 §5.3 credit and its aging), and what a check's answer or silence does.
 */
import { describe, expect, it } from 'vitest';
import type { Association } from '../../src/core/association.js';
import type { EngineContext } from '../../src/core/context.js';
import type { PeerLocator } from '../../src/core/events.js';
import {
  abandonCheck,
  activatePath,
  CREDIT_AGING_MS,
  dataPath,
  MAX_CREDIT,
  MAX_PATHS,
  PathTable,
  type PathState,
} from '../../src/core/paths.js';

const loc = (n: number | string): PeerLocator => ({ key: `sim:${n}` });
const states = (t: PathTable<PeerLocator>): Record<string, PathState> =>
  Object.fromEntries([...t.paths.values()].map((p) => [p.locator.key, p.state]));

/** The parts of an association the path functions use. */
function assoc(current: PeerLocator) {
  const paths = new PathTable(current, 0);
  return { a: { locator: current, paths, peerHit: new Uint8Array(16) } as unknown as Association<PeerLocator>, paths };
}
function ctx() {
  const events: unknown[] = [];
  return { events, c: { emit: (e: unknown) => events.push(e) } as unknown as EngineContext<PeerLocator> };
}

describe('PathTable.candidate', () => {
  it('a new address starts unverified; the current one stays active when it is seen again', () => {
    const t = new PathTable(loc(0), 0);
    expect(t.candidate(loc(1), false, 1)!.state).toBe('unverified');
    expect(t.candidate(loc(0), true, 2)!.state).toBe('active');
    expect(t.get('sim:0')!.announced).toBe(false);
  });

  it('a deprecated address seen again is unverified once more, and an announcement sticks', () => {
    const t = new PathTable(loc(0), 0);
    t.candidate(loc(1), true, 1)!.state = 'deprecated';
    const again = t.candidate(loc(1), false, 2)!;
    expect(again.state).toBe('unverified');
    expect(again.announced).toBe(true);
  });

  it('when full, a deprecated path gives way before an unverified one; the active one never', () => {
    const t = new PathTable(loc(0), 0);
    for (let i = 1; i < MAX_PATHS; i++) t.candidate(loc(i), false, i);
    t.get('sim:5')!.state = 'deprecated';
    expect(t.candidate(loc('new1'), false, 10)).toBeDefined();
    expect(t.get('sim:5')).toBeUndefined();
    expect(t.get('sim:1')).toBeDefined();
    expect(t.paths.size).toBe(MAX_PATHS);
    // No deprecated one left: the oldest unverified one goes.
    expect(t.candidate(loc('new2'), false, 11)).toBeDefined();
    expect(t.get('sim:1')).toBeUndefined();
    expect(t.get('sim:0')!.state).toBe('active');
    expect(t.paths.size).toBe(MAX_PATHS);
  });

  it('a path whose check is in flight is kept; with every other one checking, the newcomer is refused', () => {
    const t = new PathTable(loc(0), 0);
    for (let i = 1; i < MAX_PATHS; i++) t.candidate(loc(i), false, i)!.nonce = new Uint8Array([i]);
    t.get('sim:3')!.state = 'deprecated';
    expect(t.candidate(loc('flood'), false, 10)).toBeUndefined();
    expect(t.paths.size).toBe(MAX_PATHS);
    expect(t.get('sim:3')).toBeDefined();
    // Once one check is over, that path may go.
    t.get('sim:4')!.nonce = undefined;
    expect(t.candidate(loc('flood'), false, 11)).toBeDefined();
    expect(t.get('sim:4')).toBeUndefined();
    expect(Object.keys(states(t))).toContain('sim:3');
  });
});

describe('announced candidates and credit (RFC 8046 §5.3)', () => {
  it('only an unverified, announced path is one data may follow, the newest of them', () => {
    const t = new PathTable(loc(0), 0);
    t.candidate(loc(1), false, 1);
    expect(t.announcedCandidate()).toBeUndefined();
    t.candidate(loc(2), true, 2);
    t.candidate(loc(3), true, 3);
    expect(t.announcedCandidate()!.locator.key).toBe('sim:3');
    t.get('sim:3')!.state = 'deprecated';
    expect(t.announcedCandidate()!.locator.key).toBe('sim:2');
  });

  it('credit earned can be spent exactly, not a byte more', () => {
    const t = new PathTable(loc(0), 0);
    t.earn(1000, 0);
    expect(t.spend(1001, 0)).toBe(false);
    expect(t.spend(1000, 0)).toBe(true);
    expect(t.credit).toBe(0);
    expect(t.spend(1, 0)).toBe(false);
  });

  it('credit is capped', () => {
    const t = new PathTable(loc(0), 0);
    t.earn(MAX_CREDIT, 0);
    t.earn(5000, 0);
    expect(t.credit).toBe(MAX_CREDIT);
  });

  it('credit ages by 7/8 per whole step, and a part step carries over to the next', () => {
    const t = new PathTable(loc(0), 0);
    t.earn(8000, 0);
    t.earn(0, CREDIT_AGING_MS - 1);
    expect(t.credit).toBe(8000);
    t.earn(0, CREDIT_AGING_MS + 2500);
    expect(t.credit).toBe(7000);
    // 2500 ms of the first step's remainder and 2500 more: one more step, not zero or two.
    t.earn(0, 2 * CREDIT_AGING_MS);
    expect(t.credit).toBe(6125);
    t.earn(0, 4 * CREDIT_AGING_MS);
    // Two steps at once: 6125 x (7/8)^2 = 4689.45, floored.
    expect(t.credit).toBe(4689);
  });

  it('spending ages the credit first', () => {
    const t = new PathTable(loc(0), 0);
    t.earn(8000, 0);
    expect(t.spend(7500, CREDIT_AGING_MS)).toBe(false);
    expect(t.spend(7000, CREDIT_AGING_MS)).toBe(true);
  });

  it('dataPath: the announced candidate while credit lasts, then the active locator', () => {
    const { a, paths } = assoc(loc(0));
    paths.candidate(loc(1), true, 0);
    paths.earn(1500, 0);
    expect(dataPath(a, 1000, 0).key).toBe('sim:1');
    expect(dataPath(a, 1000, 0).key).toBe('sim:0');
    expect(paths.credit).toBe(500);
  });
});

describe('a check answered or abandoned', () => {
  it('the answer for another address makes it active and the old one deprecated, with a locator event', () => {
    const { a, paths } = assoc(loc(0));
    const p = paths.candidate(loc(1), false, 1)!;
    p.nonce = new Uint8Array([9]);
    const { events, c } = ctx();
    activatePath(c, a, p, 5);
    expect(a.locator.key).toBe('sim:1');
    expect(states(paths)).toEqual({ 'sim:0': 'deprecated', 'sim:1': 'active' });
    expect(p.nonce).toBeUndefined();
    expect(events).toMatchObject([{ type: 'locator', locator: { key: 'sim:1' }, previous: { key: 'sim:0' } }]);
  });

  it('the answer for the current address only confirms it: no event, nothing deprecated', () => {
    const { a, paths } = assoc(loc(0));
    const p = paths.get('sim:0')!;
    p.state = 'unverified';
    p.nonce = new Uint8Array([1]);
    const { events, c } = ctx();
    activatePath(c, a, p, 5);
    expect(p.state).toBe('active');
    expect(a.locator.key).toBe('sim:0');
    expect(events).toEqual([]);
  });

  it('an unanswered check deprecates the path and takes back its announcement; the active path is left alone', () => {
    const { a, paths } = assoc(loc(0));
    const p = paths.candidate(loc(1), true, 1)!;
    p.nonce = new Uint8Array([7]);
    abandonCheck(a, 'sim:1');
    expect(p).toMatchObject({ state: 'deprecated', announced: false, nonce: undefined });
    const cur = paths.get('sim:0')!;
    cur.nonce = new Uint8Array([8]);
    abandonCheck(a, 'sim:0');
    expect(cur.state).toBe('active');
    expect(cur.nonce).toEqual(new Uint8Array([8]));
    abandonCheck(a, 'sim:unknown');
    expect(paths.paths.size).toBe(2);
  });
});
