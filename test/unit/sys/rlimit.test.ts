import { describe, expect, it } from 'vitest';
import { RLIMIT_MEMLOCK, RLIMIT_NOFILE } from '../../../structs/index.js';
import { getRlimit } from '../../../src/sys/index.js';

describe('rlimits', () => {
  it('reads RLIMIT_MEMLOCK and RLIMIT_NOFILE as bigints', () => {
    const m = getRlimit(RLIMIT_MEMLOCK);
    expect(typeof m.soft).toBe('bigint');
    expect(m.soft <= m.hard).toBe(true);
    expect(getRlimit(RLIMIT_NOFILE).soft).toBeGreaterThan(10n);
  });
});
