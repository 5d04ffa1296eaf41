/**
 * vfio-user messages on the wire: the 16-byte header, checked as it arrives, and whole messages
 * built for sending. A peer is never trusted: every field of a received header is checked
 * before its size is used to read more, and a refusal names the peer, the message and the cause.
 */
import {
  VFIO_USER_COMMAND_NAMES,
  VFIO_USER_FLAG_ERROR,
  VFIO_USER_FLAG_NO_REPLY,
  VFIO_USER_TYPE_COMMAND,
  VFIO_USER_TYPE_MASK,
  VFIO_USER_TYPE_REPLY,
  VfioError,
  VfioErrorCode,
  koffi,
  vfio_user_header,
} from '../../structs/index.js';

/** The header's size: every message is at least this long. */
export const HEADER_SIZE = vfio_user_header.size;

const ID = koffi.offsetof(vfio_user_header, 'msg_id');
const COMMAND = koffi.offsetof(vfio_user_header, 'command');
const SIZE = koffi.offsetof(vfio_user_header, 'msg_size');
const FLAGS = koffi.offsetof(vfio_user_header, 'flags');
const ERRNO = koffi.offsetof(vfio_user_header, 'error_no');
const KNOWN_FLAGS = VFIO_USER_TYPE_MASK | VFIO_USER_FLAG_NO_REPLY | VFIO_USER_FLAG_ERROR;

/** A message's header, decoded. */
export interface MessageHeader {
  /** The sender's message id, echoed in the reply. */
  id: number;
  /** `VFIO_USER_*` command number. */
  command: number;
  /** The whole message's size, header included. */
  size: number;
  /** A reply (else a command). */
  reply: boolean;
  /** A command that wants no reply. */
  noReply: boolean;
  /** A reply saying the command failed. */
  error: boolean;
  /** The errno of a failed command (may be 0). */
  errno: number;
}

/** A whole received message: its header, its payload and the descriptors that came with it. */
export interface Message extends MessageHeader {
  payload: Buffer;
  fds: number[];
}

/** `VFIO_USER_DEVICE_GET_INFO` or `command 99`, for messages. */
export function commandName(command: number): string {
  return VFIO_USER_COMMAND_NAMES[command] ?? `command ${command}`;
}

/** The coded error for a message a peer should not have sent. */
export function protocolError(peer: string, what: string): VfioError {
  return new VfioError(
    VfioErrorCode.PROTOCOL,
    `${peer} broke the vfio-user protocol: ${what}. The connection is closed; check the peer's vfio-user implementation`,
  );
}

/**
 * Decodes and checks a header: a size from 16 to `maxSize` bytes, a known message type, no
 * flag the protocol does not define, no reply that asks for no reply.
 */
export function parseHeader(buf: Uint8Array, peer: string, maxSize: number): MessageHeader {
  if (buf.length < HEADER_SIZE) throw protocolError(peer, `a header of ${buf.length} bytes, not ${HEADER_SIZE}`);
  const v = new DataView(buf.buffer, buf.byteOffset, HEADER_SIZE);
  const h: MessageHeader = {
    id: v.getUint16(ID, true),
    command: v.getUint16(COMMAND, true),
    size: v.getUint32(SIZE, true),
    reply: false,
    noReply: false,
    error: false,
    errno: v.getUint32(ERRNO, true),
  };
  const flags = v.getUint32(FLAGS, true);
  const what = `message ${h.id} (${commandName(h.command)})`;
  if (h.size < HEADER_SIZE) throw protocolError(peer, `${what} says it is ${h.size} bytes, less than its header`);
  if (h.size > maxSize) throw protocolError(peer, `${what} says it is ${h.size} bytes, over the ${maxSize} allowed`);
  if (flags & ~KNOWN_FLAGS) throw protocolError(peer, `${what} has undefined flags 0x${flags.toString(16)}`);
  const type = flags & VFIO_USER_TYPE_MASK;
  if (type !== VFIO_USER_TYPE_COMMAND && type !== VFIO_USER_TYPE_REPLY)
    throw protocolError(peer, `${what} has message type ${type}, neither command (0) nor reply (1)`);
  h.reply = type === VFIO_USER_TYPE_REPLY;
  h.noReply = (flags & VFIO_USER_FLAG_NO_REPLY) !== 0;
  h.error = (flags & VFIO_USER_FLAG_ERROR) !== 0;
  if (h.reply && h.noReply) throw protocolError(peer, `reply ${what} is marked no-reply`);
  if (!h.reply && h.error) throw protocolError(peer, `command ${what} is marked as an error`);
  return h;
}

/** What to send: a command, or the reply to one. */
export interface OutgoingMessage {
  id: number;
  command: number;
  reply?: boolean;
  noReply?: boolean;
  /** For a reply: the command failed with this errno (the payload must then be empty). */
  errno?: number;
  payload?: Uint8Array;
}

/** The bytes of a message: its header followed by its payload. */
export function encodeMessage(m: OutgoingMessage): Buffer {
  const payload = m.errno === undefined ? (m.payload ?? new Uint8Array(0)) : new Uint8Array(0);
  const buf = Buffer.alloc(HEADER_SIZE + payload.length);
  let flags = m.reply ? VFIO_USER_TYPE_REPLY : VFIO_USER_TYPE_COMMAND;
  if (m.noReply) flags |= VFIO_USER_FLAG_NO_REPLY;
  if (m.errno !== undefined) flags |= VFIO_USER_FLAG_ERROR;
  buf.writeUInt16LE(m.id, ID);
  buf.writeUInt16LE(m.command, COMMAND);
  buf.writeUInt32LE(buf.length, SIZE);
  buf.writeUInt32LE(flags, FLAGS);
  buf.writeUInt32LE(m.errno ?? 0, ERRNO);
  buf.set(payload, HEADER_SIZE);
  return buf;
}
