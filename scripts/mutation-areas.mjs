// The areas `npm run mutation -- <area>` can mutate, each with the test files that guard it.
// Globs: a file written later joins its area when it matches. Each file is in one area only.

/** @type {Record<string, { mutate: string[], tests: string[], about: string }>} */
export const mutationAreas = {
  esp: {
    about: 'ESP SAs, suites, replay window, SPI and IV handling (src/esp)',
    mutate: ['src/esp/**/*.ts', '!src/esp/index.ts'],
    tests: ['test/esp/**/*.test.ts'],
  },
  bex: {
    about: 'BEX and CLOSE handlers (src/core)',
    mutate: ['src/core/{bex-initiator,bex-responder,teardown,responder}.ts'],
    tests: ['test/core/**/*.test.ts'],
  },
  update: {
    about: 'the UPDATE handler: rekeying, locator announcement and return routability (src/core)',
    mutate: ['src/core/{update,update-state,paths}.ts'],
    tests: ['test/core/**/*.test.ts'],
  },
  core: {
    about: 'the rest of the sans-IO engine (src/core)',
    mutate: [
      'src/core/**/*.ts',
      '!src/core/{bex-initiator,bex-responder,teardown,responder,update,update-state,paths}.ts',
      '!src/core/{index,events,timers}.ts',
    ],
    tests: ['test/core/**/*.test.ts'],
  },
  crypto: {
    about: 'KEYMAT derivation and puzzles (src/crypto/keymat.ts, src/crypto/puzzle.ts)',
    mutate: ['src/crypto/keymat.ts', 'src/crypto/puzzle.ts'],
    tests: ['test/crypto/keymat*.test.ts', 'test/crypto/puzzle.test.ts', 'test/esp/kat.test.ts'],
  },
  host: {
    about: "the host's locators and SA handling (src/host/locator.ts, session.ts, data-plane.ts)",
    mutate: ['src/host/{locator,session,data-plane}.ts'],
    // The data plane is exercised through the host: datagrams, ICMPv6, the hipd ESP form, replays and redirects.
    tests: ['test/host/host-loopback.test.ts', 'test/host/icmpv6.test.ts', 'test/host/hipd-esp.test.ts', 'test/host/replay-attack.test.ts', 'test/host/locator-redirect.test.ts'],
  },
  stream: {
    about: 'the reliable stream over HIP (src/host/stream-protocol.ts)',
    mutate: ['src/host/stream-protocol.ts'],
    tests: ['test/host/stream-protocol.test.ts'],
  },
};
