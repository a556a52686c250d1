import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HipEspError } from '../../src/errors.js';
import { MIN_SPI, SpiAllocator } from '../../src/esp/spi.js';
import { u32 } from './reference.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HipEspError) return e.code;
    throw e;
  }
  return 'OK';
}

/** A random source that replays the given 32-bit values, in order. */
function scripted(values: number[]): (n: number) => Uint8Array {
  let i = 0;
  return (n) => {
    const v = values[i++ % values.length]!;
    const out = new Uint8Array(n);
    out.set(u32(v));
    return out;
  };
}

describe('SpiAllocator', () => {
  it('hands out unique SPIs of at least 256 from a real random source', () => {
    const a = new SpiAllocator();
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const spi = a.allocate(randomBytes);
      expect(Number.isInteger(spi) && spi >= 256 && spi <= 0xffffffff).toBe(true);
      seen.add(spi);
    }
    expect(seen.size).toBe(5000);
    expect(a.size).toBe(5000);
    expect(MIN_SPI).toBe(256);
  });

  it('skips the reserved values 0..255 and values already live', () => {
    const a = new SpiAllocator();
    expect(a.allocate(scripted([0, 1, 255, 256]))).toBe(256);
    expect(a.allocate(scripted([256, 0xffffffff]))).toBe(0xffffffff);
    expect(a.has(256) && a.has(0xffffffff)).toBe(true);
  });

  it('reuses a released SPI and gives up on a stuck random source', () => {
    const a = new SpiAllocator();
    const stuck = scripted([0x12345678]);
    expect(a.allocate(stuck)).toBe(0x12345678);
    expect(code(() => a.allocate(stuck))).toBe('ERR_ESP_SPI_EXHAUSTED');
    expect(a.release(0x12345678)).toBe(true);
    expect(a.release(0x12345678)).toBe(false);
    expect(a.has(0x12345678)).toBe(false);
    expect(a.allocate(stuck)).toBe(0x12345678);
    expect(code(() => new SpiAllocator().allocate(scripted([7])))).toBe('ERR_ESP_SPI_EXHAUSTED');
  });

  it('refuses a random source that returns fewer than 4 bytes', () => {
    expect(code(() => new SpiAllocator().allocate(() => new Uint8Array(3)))).toBe('ERR_ESP_BAD_RANDOM');
  });
});
