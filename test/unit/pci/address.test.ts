import { describe, expect, it } from 'vitest';
import { parsePciAddress } from '../../../src/pci/index.js';

describe('PCI addresses', () => {
  it('normalises the short form and case', () => {
    expect(parsePciAddress('00:03.0')).toBe('0000:00:03.0');
    expect(parsePciAddress(' 0000:0A:1f.7 ')).toBe('0000:0a:1f.7');
  });
  it('rejects everything else with the expected shape in the message', () => {
    for (const bad of ['', '0:3.0', '0000:00:20.0', '00:03.8', '00:03', '/dev/vfio/1', '0000:00:03.0/../x']) {
      expect(() => parsePciAddress(bad)).toThrow(/is not a PCI address: expected domain:bus:device.function/);
    }
  });
});
