// The shared cache of packed installs (test/support/packed-install.ts) keeps what another
// checkout may be using: the current install, the most recently used ones, and any used within
// a day; only the rest goes.
import { describe, expect, it } from 'vitest';
import { staleInstalls } from '../support/packed-install.js';

const HOUR = 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 7, 12);
const used = (name: string, hoursAgo: number) => ({ name, mtimeMs: NOW - hoursAgo * HOUR });

describe('staleInstalls', () => {
  it('keeps every install used within a day, however many', () => {
    const installs = ['a', 'b', 'c', 'd', 'e', 'f'].map((n, i) => used(n, i * 4));
    expect(staleInstalls(installs, 'a', NOW)).toEqual([]);
  });

  it('removes older ones beyond the current and the two most recently used others', () => {
    const installs = [used('cur', 100), used('x', 30), used('y', 50), used('z', 70), used('w', 25)];
    // Most recent others: w (25 h), x (30 h): kept; y and z are older than a day and beyond them.
    expect(staleInstalls(installs, 'cur', NOW).sort()).toEqual(['y', 'z']);
  });

  it('never removes the current install, even when it is the oldest', () => {
    const installs = [used('cur', 1000), used('p', 40), used('q', 41), used('r', 42)];
    expect(staleInstalls(installs, 'cur', NOW)).toEqual(['r']);
  });
});
