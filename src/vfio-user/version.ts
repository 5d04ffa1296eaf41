/**
 * `VFIO_USER_VERSION`: the first message of a session, both ways. The client proposes a version
 * and its capabilities; the server answers with the same major, a minor no higher, and the
 * capabilities it will use. The JSON comes from a peer: each known capability is checked for
 * its type and range, unknown ones are ignored (a newer peer may add some).
 */
import {
  SCM_MAX_FD,
  VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE,
  VFIO_USER_DEFAULT_MAX_DMA_MAPS,
  VFIO_USER_DEFAULT_MAX_MSG_FDS,
  VFIO_USER_DEFAULT_PGSIZES,
  decodeStruct,
  encodeStruct,
  vfio_user_version,
} from '../../structs/index.js';
import { HEADER_SIZE, protocolError } from './message.js';

/** The protocol version this library speaks: QEMU's client proposes 0.0, libvfio-user 0.1. */
export const PROTOCOL_MAJOR = 0;
export const PROTOCOL_MINOR = 1;

/** What a peer said it can take, with the specification's defaults for what it left out. */
export interface Capabilities {
  /** Descriptors it can receive in one message. */
  maxMsgFds: number;
  /** The largest `count` of one region or DMA read or write. */
  maxDataXferSize: number;
  /** DMA windows it can hold at once. */
  maxDmaMaps: number;
  /** Page sizes it supports for DMA maps, or'ed. */
  pgsizes: bigint;
  /** It takes `VFIO_USER_REGION_WRITE_MULTI`. */
  writeMultiple: boolean;
}

/** The specification's defaults: what a peer that states nothing can take. */
export const DEFAULT_CAPABILITIES: Readonly<Capabilities> = {
  maxMsgFds: VFIO_USER_DEFAULT_MAX_MSG_FDS,
  maxDataXferSize: VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE,
  maxDmaMaps: VFIO_USER_DEFAULT_MAX_DMA_MAPS,
  pgsizes: BigInt(VFIO_USER_DEFAULT_PGSIZES),
  writeMultiple: false,
};

/** The largest transfer either side of this library accepts: 64 MiB, as QEMU's limit. */
export const MAX_DATA_XFER_LIMIT = 64 * 1024 * 1024;

/**
 * The largest message either side accepts: a header, the largest transfer, and room for the
 * fields around it and an info's capabilities.
 */
export const MAX_MESSAGE_SIZE = HEADER_SIZE + MAX_DATA_XFER_LIMIT + 4096;

/** A version message's content. */
export interface VersionMessage {
  major: number;
  minor: number;
  capabilities: Capabilities;
}

/** The payload of a version message: the numbers and the capabilities as NUL-terminated JSON. */
export function encodeVersion(v: VersionMessage): Buffer {
  const json = JSON.stringify({
    capabilities: {
      max_msg_fds: v.capabilities.maxMsgFds,
      max_data_xfer_size: v.capabilities.maxDataXferSize,
      max_dma_maps: v.capabilities.maxDmaMaps,
      pgsizes: Number(v.capabilities.pgsizes),
      write_multiple: v.capabilities.writeMultiple,
    },
  });
  const text = Buffer.from(`${json}\0`, 'utf8');
  const buf = Buffer.alloc(vfio_user_version.size + text.length);
  encodeStruct(buf, vfio_user_version, { major: v.major, minor: v.minor });
  buf.set(text, vfio_user_version.size);
  return buf;
}

/** Reads a version message's payload from `peer`, with defaults for what it left out. */
export function parseVersion(payload: Uint8Array, peer: string): VersionMessage {
  if (payload.length < vfio_user_version.size)
    throw protocolError(peer, `a version message of ${payload.length} bytes, not at least ${vfio_user_version.size}`);
  const { major, minor } = decodeStruct<{ major: number; minor: number }>(payload, vfio_user_version);
  const data = payload.subarray(vfio_user_version.size);
  const capabilities = { ...DEFAULT_CAPABILITIES };
  if (data.length === 0) return { major, minor, capabilities };
  const end = data.indexOf(0);
  if (end < 0) throw protocolError(peer, 'version data that does not end in NUL');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.subarray(0, end)).toString('utf8'));
  } catch {
    throw protocolError(peer, 'version data that is not JSON');
  }
  if (!isObject(json)) throw protocolError(peer, 'version data that is not a JSON object');
  const caps = json.capabilities;
  if (caps === undefined) return { major, minor, capabilities };
  if (!isObject(caps)) throw protocolError(peer, '"capabilities" that is not an object');
  const count = (name: string, min: number, max: number): number | undefined => {
    const n = caps[name];
    if (n === undefined) return undefined;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
      throw protocolError(peer, `capability ${name} ${JSON.stringify(n)}: expected an integer from ${min} to ${max}`);
    return n;
  };
  capabilities.maxMsgFds = count('max_msg_fds', 0, SCM_MAX_FD) ?? capabilities.maxMsgFds;
  capabilities.maxDataXferSize = count('max_data_xfer_size', 1, 2 ** 32 - 1) ?? capabilities.maxDataXferSize;
  capabilities.maxDmaMaps = count('max_dma_maps', 0, 2 ** 32 - 1) ?? capabilities.maxDmaMaps;
  // A mask of many page sizes can pass 2^53: JSON numbers lose its low bits, not its size.
  const pgsizes = count('pgsizes', 1, 2 ** 64);
  if (pgsizes !== undefined) capabilities.pgsizes = BigInt(pgsizes);
  const multi = caps.write_multiple;
  if (multi !== undefined && typeof multi !== 'boolean')
    throw protocolError(peer, `capability write_multiple ${JSON.stringify(multi)}: expected true or false`);
  capabilities.writeMultiple = multi ?? false;
  return { major, minor, capabilities };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
