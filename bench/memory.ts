/**
 * What a process's memory is held by, for the per-connection memory figure. RSS alone does not
 * say it: V8 keeps freed 256 KiB heap pages resident in a pool for reuse and sizes its young
 * generation to the recent allocation rate, so a batch of handshakes can leave megabytes of
 * empty pages resident that no connection holds (and a GC can hand them back the next moment).
 * The figure counts instead what V8 says is in use (heap used, ArrayBuffers and external
 * memory) plus every resident byte outside V8's page mappings: the malloc heap, where OpenSSL,
 * libuv and Node's native objects live (Linux /proc/self/smaps; elsewhere plain RSS).
 */
import { existsSync, readFileSync } from 'node:fs';

/** Resident bytes by kind of mapping: file name, `[heap]`, or `anon <size class>`. */
export function residentByMapping(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/smaps')) return out;
  let key = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const kib = (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024;
      key = m[3] ? m[3].replace(/.*\//, '') : `anon ${kib >= 65536 ? '>=64MiB' : kib >= 256 ? '256KiB-64MiB' : '<256KiB'}`;
    } else if (line.startsWith('Rss:')) {
      out.set(key, (out.get(key) ?? 0) + Number(line.split(/\s+/)[1]) * 1024);
    }
  }
  return out;
}

/**
 * Bytes held: V8 heap in use + ArrayBuffers and external memory + resident memory outside
 * anonymous mappings of 256 KiB and more (V8 allocates its heap pages as such mappings; glibc's
 * thread arenas are 64 MiB ones, and the main thread's malloc heap is `[heap]`, kept).
 */
export function heldBytes(): number {
  const m = process.memoryUsage();
  const maps = residentByMapping();
  if (maps.size === 0) return m.rss;
  let native = 0;
  for (const [k, v] of maps) if (k !== 'anon 256KiB-64MiB' && k !== 'anon >=64MiB') native += v;
  return m.heapUsed + m.external + native;
}
