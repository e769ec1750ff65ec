// fltport's public surface. Nothing here loads the native addon: that happens on the first
// call that needs it (connect, Mailslot.create/write, filters.*).

export {
  connect,
  channels,
  Port,
  MAX_CONTEXT_SIZE,
  MAX_MESSAGE_SIZE,
  type ConnectOptions,
  type ContextOptions,
  type MessagesOptions,
  type PortClosedInfo,
  type PortState,
  type PortStats,
  type ReconnectOptions,
  type SendOptions,
} from './port.js';
export { PortMessage, REPLY_HEADER_SIZE, type ReplyOptions } from './message-stream.js';
export type { ServeContext, ServeHandler, ServeOptions } from './serve.js';
export type { BinaryCodec, Decoder, Encoder } from './validate.js';

export {
  Mailslot,
  MAILSLOT_BROADCAST_LIMIT,
  type MailslotInfo,
  type MailslotOptions,
  type MailslotReadOptions,
  type MailslotWriteOptions,
} from './mailslot.js';

export {
  filters,
  Filters,
  FILESYSTEM_TYPES,
  filesystemTypeName,
  type AttachOptions,
  type FilterInfo,
  type FiltersOptions,
  type InstanceInfo,
  type VolumeInfo,
} from './filters.js';

export {
  AbortError,
  AccessDeniedError,
  AlreadyExistsError,
  AlreadyRepliedError,
  BufferTooSmallError,
  ClosedError,
  ConnectionLimitError,
  DisconnectedError,
  FltportError,
  InvalidArgumentError,
  InvalidStateError,
  LateReplyError,
  MessageTooLargeError,
  NoReplyExpectedError,
  NoWaiterError,
  NotFoundError,
  PortNotFoundError,
  ProtocolError,
  ReplyTooLargeError,
  SimulatorUnavailableError,
  TimeoutError,
  STATUS_TABLE,
  describeHresult,
  describeNtStatus,
  hresultFromNtStatus,
  hresultFromWin32,
  isFltportError,
  type DisconnectReason,
  type FltportErrorCode,
  type FltportErrorDetails,
  type StatusTableEntry,
} from './errors.js';

export type { NativeBinding } from './binding.js';

// The codec library: struct/u32/wstring/... for typed message and reply bodies.
export * from './codec/index.js';
