// structs/vfio-user.ts against the tables of QEMU's docs/interop/vfio-user.rst: no C header
// declares the protocol's own layouts, so each size and field offset is pinned here as the
// specification gives it (offsets from the start of the payload, after the 16-byte header).
import { describe, expect, it } from 'vitest';
import {
  VFIO_USER_COMMAND_NAMES,
  vfio_user_device_info,
  vfio_user_dma_access,
  vfio_user_dma_map,
  vfio_user_dma_unmap,
  vfio_user_header,
  vfio_user_region_access,
  vfio_user_region_io_fds,
  vfio_user_version,
  vfio_user_write_one,
  type TypeObject,
} from '../../../structs/index.js';

/** Each layout as "field@offset:size", then its size. */
function layout(t: TypeObject): string {
  const members = (t as unknown as { members: Record<string, { offset: number; type: TypeObject }> }).members;
  return `${Object.entries(members)
    .map(([name, m]) => `${name}@${m.offset}:${m.type.size}`)
    .join(' ')} = ${t.size}`;
}

describe('vfio-user layouts, as the specification tabulates them', () => {
  it('the header and every payload the protocol defines itself', () => {
    expect(layout(vfio_user_header)).toBe('msg_id@0:2 command@2:2 msg_size@4:4 flags@8:4 error_no@12:4 = 16');
    expect(layout(vfio_user_version)).toBe('major@0:2 minor@2:2 = 4');
    expect(layout(vfio_user_dma_map)).toBe('argsz@0:4 flags@4:4 offset@8:8 addr@16:8 size@24:8 = 32');
    expect(layout(vfio_user_dma_unmap)).toBe('argsz@0:4 flags@4:4 addr@8:8 size@16:8 = 24');
    expect(layout(vfio_user_device_info)).toBe('argsz@0:4 flags@4:4 num_regions@8:4 num_irqs@12:4 = 16');
    expect(layout(vfio_user_region_access)).toBe('offset@0:8 region@8:4 count@12:4 = 16');
    expect(layout(vfio_user_dma_access)).toBe('addr@0:8 count@8:8 = 16');
    expect(layout(vfio_user_region_io_fds)).toBe('argsz@0:4 flags@4:4 index@8:4 count@12:4 = 16');
    expect(layout(vfio_user_write_one)).toBe('offset@0:8 region@8:4 count@12:4 data@16:8 = 24');
  });

  it('numbers the commands 1 to 18 as the table does', () => {
    expect(Object.keys(VFIO_USER_COMMAND_NAMES).map(Number)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
    ]);
    expect(VFIO_USER_COMMAND_NAMES[5]).toBe('VFIO_USER_DEVICE_GET_REGION_INFO');
    expect(VFIO_USER_COMMAND_NAMES[13]).toBe('VFIO_USER_DEVICE_RESET');
    expect(VFIO_USER_COMMAND_NAMES[16]).toBe('VFIO_USER_DEVICE_FEATURE');
  });
});
