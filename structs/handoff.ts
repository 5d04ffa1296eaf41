/**
 * The message that hands an opened device to another process over a UNIX socket: a fixed
 * header, then the IOVA spans the sender has mapped (so the receiver allocates around them),
 * and the descriptors as one SCM_RIGHTS message on its first byte. This library's own format
 * (no C header declares it); `test/unit/structs/handoff.test.ts` pins its size and offsets.
 * Fields are little-endian, as the hosts the library runs on.
 */
import { cStruct, decodeStruct, encodeStruct, koffi } from './koffi.js';
import { VfioErrorCode } from './error-codes.js';
import { VfioError } from './errors.js';

/** The header's first four bytes, `VTHO` read as a little-endian number. */
export const HANDOFF_MAGIC = 0x4f485456;
/** The one version this library writes and reads. */
export const HANDOFF_VERSION = 1;
/** The IOMMU context a device is handed with, as the header's `backend` says it. */
export const HANDOFF_BACKEND = { type1: 1, iommufd: 2, noiommu: 3 } as const;
/** `type1`, `iommufd` or `noiommu`: the IOMMU context a handoff message carries. */
export type HandoffBackend = keyof typeof HANDOFF_BACKEND;
/**
 * The descriptors each backend sends, in order: the container, the group and the device; or
 * the iommufd and the device's cdev.
 */
export const HANDOFF_FDS: Readonly<Record<HandoffBackend, readonly string[]>> = {
  type1: ['container', 'group', 'device'],
  iommufd: ['iommufd', 'device'],
  noiommu: ['container', 'group', 'device'],
};
/** The most IOVA spans one message carries. */
export const HANDOFF_MAX_SPANS = 4096;
/** Room for a PCI address and its NUL: `0000:00:03.0` is 12 bytes. */
const ADDRESS_SIZE = 16;

/** The fixed part of the message. */
export const handoff_header = cStruct('vfio_ts_handoff_header', {
  magic: 'uint32_t',
  version: 'uint16_t',
  backend: 'uint8_t',
  fd_count: 'uint8_t',
  /** The whole message in bytes: this header and `span_count` spans. */
  size: 'uint32_t',
  iommu_group: 'uint32_t',
  /** type1 and noiommu: the IOMMU type set on the container; iommufd: the IOAS id. */
  iommu_id: 'uint32_t',
  span_count: 'uint32_t',
  dma_bits: 'uint32_t',
  reserved: 'uint32_t',
  address: koffi.array('uint8_t', ADDRESS_SIZE),
});

/** One IOVA range the sender has mapped, `[iova, iova + size)`. */
export const handoff_span = cStruct('vfio_ts_handoff_span', { iova: 'uint64_t', size: 'uint64_t' });

const ADDRESS_AT = koffi.offsetof(handoff_header, 'address');

/** What a handoff message says, decoded and checked. */
export interface HandoffMessage {
  backend: HandoffBackend;
  /** The device's PCI address as the sender wrote it (the receiver parses it). */
  address: string;
  iommuGroup: number;
  /** type1 and noiommu: the container's IOMMU type; iommufd: the IOAS id. */
  iommuId: number;
  /** The sender device's DMA address width in bits. */
  dmaBits: number;
  /** IOVA ranges in use by the sender, each `size` bytes at `iova`. */
  spans: Array<{ iova: bigint; size: bigint }>;
}

/** The message's bytes; the descriptors go with them in the order `HANDOFF_FDS` names. */
export function encodeHandoff(m: HandoffMessage): Uint8Array {
  const address = new TextEncoder().encode(m.address);
  if (address.length >= ADDRESS_SIZE || m.spans.length > HANDOFF_MAX_SPANS)
    throw new VfioError(
      VfioErrorCode.INTERNAL,
      `handoff of ${m.address}: the address or its ${m.spans.length} spans do not fit the message`,
    );
  const size = handoff_header.size + m.spans.length * handoff_span.size;
  const out = new Uint8Array(size);
  encodeStruct(out, handoff_header, {
    magic: HANDOFF_MAGIC,
    version: HANDOFF_VERSION,
    backend: HANDOFF_BACKEND[m.backend],
    fd_count: HANDOFF_FDS[m.backend].length,
    size,
    iommu_group: m.iommuGroup,
    iommu_id: m.iommuId,
    span_count: m.spans.length,
    dma_bits: m.dmaBits,
  });
  out.set(address, ADDRESS_AT);
  m.spans.forEach((s, i) => encodeStruct(out, handoff_span, s, handoff_header.size + i * handoff_span.size));
  return out;
}

/** The most bytes a message may have: the header and the most spans. */
export const HANDOFF_MAX_SIZE = handoff_header.size + HANDOFF_MAX_SPANS * handoff_span.size;

interface RawHeader {
  magic: number;
  version: number;
  backend: number;
  fd_count: number;
  size: number;
  iommu_group: number;
  iommu_id: number;
  span_count: number;
  dma_bits: number;
  reserved: number;
}

/**
 * Reads and checks a received message: `bytes` is all that arrived, `fdCount` how many
 * descriptors came with it. Anything the format does not allow throws `ERR_VFIO_HANDOFF`
 * naming the field, what it held and what was expected; the caller closes the descriptors.
 */
export function decodeHandoff(bytes: Uint8Array, fdCount: number, from: string): HandoffMessage {
  const refuse = (what: string): never => {
    throw new VfioError(
      VfioErrorCode.HANDOFF,
      `device handoff from ${from}: ${what}; the ${fdCount} descriptors that came with it are closed. Send it with sendDevice() of the same vfio-ts version`,
    );
  };
  if (bytes.length < handoff_header.size)
    refuse(`the message is ${bytes.length} bytes, shorter than its ${handoff_header.size}-byte header`);
  const h = decodeStruct<RawHeader>(bytes, handoff_header);
  if (h.magic !== HANDOFF_MAGIC)
    refuse(`magic 0x${h.magic.toString(16)} is not 0x${HANDOFF_MAGIC.toString(16)}: this is not a device handoff`);
  if (h.version !== HANDOFF_VERSION) refuse(`version ${h.version}; this library reads version ${HANDOFF_VERSION}`);
  const backend = (Object.keys(HANDOFF_BACKEND) as HandoffBackend[]).find((b) => HANDOFF_BACKEND[b] === h.backend);
  if (backend === undefined) refuse(`backend ${h.backend} is none of 1 (type1), 2 (iommufd), 3 (noiommu)`);
  const fds = HANDOFF_FDS[backend!];
  if (h.fd_count !== fds.length)
    refuse(`the header counts ${h.fd_count} descriptors; a ${backend} handoff has ${fds.length} (${fds.join(', ')})`);
  if (fdCount !== fds.length)
    refuse(`${fdCount} descriptors arrived; a ${backend} handoff carries ${fds.length} (${fds.join(', ')})`);
  if (h.span_count > HANDOFF_MAX_SPANS) refuse(`${h.span_count} IOVA spans, more than ${HANDOFF_MAX_SPANS}`);
  const size = handoff_header.size + h.span_count * handoff_span.size;
  if (h.size !== size || bytes.length !== size)
    refuse(`the header says ${h.size} bytes and ${h.span_count} spans (${size} bytes), and ${bytes.length} arrived`);
  if (h.reserved !== 0) refuse(`reserved field is ${h.reserved}, not 0`);
  if (h.dma_bits < 12 || h.dma_bits > 64) refuse(`dma_bits ${h.dma_bits} is outside 12-64`);
  const raw = bytes.subarray(ADDRESS_AT, ADDRESS_AT + ADDRESS_SIZE);
  const end = raw.indexOf(0);
  if (end <= 0 || raw.subarray(end).some((b) => b !== 0) || raw.subarray(0, end).some((b) => b < 0x21 || b > 0x7e))
    refuse('the address field is not printable ASCII ended and padded by NUL bytes');
  const spans = Array.from({ length: h.span_count }, (_, i) =>
    decodeStruct<{ iova: bigint; size: bigint }>(bytes, handoff_span, handoff_header.size + i * handoff_span.size),
  );
  for (const s of spans)
    if (s.size === 0n || s.iova + s.size > 2n ** 64n)
      refuse(`IOVA span 0x${s.iova.toString(16)}+0x${s.size.toString(16)} is empty or passes 2^64`);
  return {
    backend: backend!,
    address: String.fromCharCode(...raw.subarray(0, end)),
    iommuGroup: h.iommu_group,
    iommuId: h.iommu_id,
    dmaBits: h.dma_bits,
    spans,
  };
}

/** Both layouts by name: our own wire format, no C header has them (test/unit/structs/handoff.test.ts pins them). */
export const HANDOFF_STRUCTS = { handoff_header, handoff_span };
