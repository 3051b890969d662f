/** A deterministic BuildEnv for tests: a fixed clock and a seeded PRNG (mulberry32) that also makes the UUIDs. */
import type { BuildEnv } from '../../src/events/build.js';

export function seededBuildEnv(seed = 42, now = Date.UTC(2024, 0, 15, 12, 0, 0)): BuildEnv {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  return {
    now: () => now,
    random,
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`,
  };
}
