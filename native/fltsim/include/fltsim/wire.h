/*
 * fltsim wire protocol: the one contract between fltsim-host (the simulated Filter Manager)
 * and every user-mode client of it (native/posix, the test fltlib.dll, the C bench client,
 * the control client used by tests).
 *
 * Transport: a byte stream (AF_UNIX SOCK_STREAM on POSIX, a byte-mode named pipe under
 * Wine) carrying length-prefixed frames. One transport connection = one user handle:
 * a communication-port connection, a mailslot handle, or a control session. The first
 * frame on a stream is HELLO; it fixes the stream's kind.
 *
 * All integers are little-endian. Every struct below has a fixed size with no implicit
 * padding (checked by static asserts), so C, C++ and TypeScript read it the same way.
 * Names on the wire are UTF-16LE without a terminator (Windows object names are UTF-16);
 * the byte count is always given and always even.
 *
 * Validation rule for both sides: a frame whose Length is < sizeof(FLTSIM_FRAME_HEADER),
 * > FLTSIM_MAX_FRAME, whose body is shorter than the fixed part of its type, or whose
 * variable parts do not add up to exactly Length, is malformed: the receiver logs the
 * reason and drops that stream (never the process). Unknown frame types are malformed.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define FLTSIM_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define FLTSIM_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#define FLTSIM_WIRE_MAGIC 0x4D495346u /* "FSIM" */
#define FLTSIM_WIRE_VERSION 1u

/* Largest frame either side accepts: a 64 KiB context or a 1 MiB message fits easily. */
#define FLTSIM_MAX_FRAME (16u * 1024u * 1024u)
/* FilterConnectCommunicationPort's context travels in an EA; fltlib refuses sizes >= 0xFFE8
 * (FLT_PORT_CONTEXT_MAX) with STATUS_INTEGER_OVERFLOW, so the largest legal context is
 * 0xFFE7 = 65,511 bytes (spec §2.1). */
#define FLTSIM_MAX_CONTEXT 0xFFE7u
/* Object names: UNICODE_STRING.Length is a USHORT of bytes. */
#define FLTSIM_MAX_NAME_BYTES 0xFFFEu

/* Default socket file name inside the runtime directory. */
#define FLTSIM_SOCKET_NAME "fltsim.sock"
/* Environment variable naming the runtime directory (POSIX) or pipe prefix (Wine). */
#define FLTSIM_RUNTIME_DIR_ENV "FLTSIM_RUNTIME_DIR"
/* Named pipe used by the Win32 transport: FLTSIM_PIPE_PREFIX + instance name. */
#define FLTSIM_PIPE_PREFIX "\\\\.\\pipe\\fltsim-"

typedef struct FLTSIM_FRAME_HEADER {
  uint32_t Length; /* whole frame, header included */
  uint16_t Type;   /* FLTSIM_FRAME_TYPE */
  uint16_t Flags;  /* 0; reserved */
  uint64_t Tag;    /* request tag chosen by the client, echoed in the answer */
} FLTSIM_FRAME_HEADER;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_FRAME_HEADER) == 16, "frame header is 16 bytes");

typedef enum FLTSIM_FRAME_TYPE {
  /* ---- any stream ---- */
  FLTSIM_HELLO = 1,        /* client -> host: FLTSIM_HELLO_BODY */
  FLTSIM_HELLO_RESULT = 2, /* host -> client: FLTSIM_STATUS_BODY (0 = accepted) */

  /* ---- communication port stream (FLTSIM_KIND_PORT) ---- */
  FLTSIM_CONNECT = 10,        /* c->h FLTSIM_CONNECT_BODY + name + context */
  FLTSIM_CONNECT_RESULT = 11, /* h->c FLTSIM_STATUS_BODY: the NTSTATUS of the connect */
  FLTSIM_GET = 12,            /* c->h FLTSIM_GET_BODY: post one FilterGetMessage of BufferSize */
  FLTSIM_GET_COMPLETE = 13,   /* h->c FLTSIM_COMPLETION_BODY + bytes: completes the GET with Tag */
  FLTSIM_CANCEL = 14,         /* c->h FLTSIM_CANCEL_BODY: CancelIoEx(one tag, or all) */
  FLTSIM_REPLY = 15,          /* c->h whole FilterReplyMessage buffer (FILTER_REPLY_HEADER + payload) */
  FLTSIM_REPLY_RESULT = 16,   /* h->c FLTSIM_STATUS_BODY */
  FLTSIM_SEND = 17,           /* c->h FLTSIM_SEND_BODY + input bytes: FilterSendMessage */
  FLTSIM_SEND_RESULT = 18,    /* h->c FLTSIM_COMPLETION_BODY + output bytes (Information = bytes returned) */

  /* ---- mailslot stream (FLTSIM_KIND_MAILSLOT) ---- */
  FLTSIM_MS_CREATE = 30,      /* c->h FLTSIM_MS_CREATE_BODY + name: CreateMailslot (server end) */
  FLTSIM_MS_OPEN = 31,        /* c->h FLTSIM_MS_OPEN_BODY + name: CreateFile on a mailslot (client end) */
  FLTSIM_MS_OPEN_RESULT = 32, /* h->c FLTSIM_STATUS_BODY (answers CREATE and OPEN) */
  FLTSIM_MS_READ = 33,        /* c->h FLTSIM_GET_BODY: ReadFile of BufferSize (server end) */
  FLTSIM_MS_READ_COMPLETE = 34, /* h->c FLTSIM_COMPLETION_BODY + bytes; with STATUS_BUFFER_TOO_SMALL
                                  no bytes follow and Information is the size of the message that
                                  did not fit (it stays queued) */
  FLTSIM_MS_WRITE = 35,       /* c->h message bytes (client end) */
  FLTSIM_MS_WRITE_RESULT = 36, /* h->c FLTSIM_COMPLETION_BODY (Information = bytes written) */
  FLTSIM_MS_QUERY = 37,       /* c->h empty: GetMailslotInfo */
  FLTSIM_MS_QUERY_RESULT = 38, /* h->c FLTSIM_MS_INFO_BODY */
  FLTSIM_MS_SET = 39,         /* c->h FLTSIM_MS_SET_BODY: SetMailslotInfo */
  FLTSIM_MS_SET_RESULT = 40,  /* h->c FLTSIM_STATUS_BODY */
  /* CANCEL (14) also applies to pending MS_READs. */

  /* ---- control stream (FLTSIM_KIND_CONTROL): tests and tools drive the simulated driver ---- */
  FLTSIM_CONTROL = 60,        /* c->h UTF-8 command line (see docs/fltsim.md) */
  FLTSIM_CONTROL_RESULT = 61, /* h->c UTF-8 result line for the command with the same Tag */
  FLTSIM_CONTROL_EVENT = 62,  /* h->c UTF-8 event line, Tag 0 (asynchronous outcomes) */
} FLTSIM_FRAME_TYPE;

typedef enum FLTSIM_STREAM_KIND {
  FLTSIM_KIND_PORT = 1,
  FLTSIM_KIND_MAILSLOT = 2,
  FLTSIM_KIND_CONTROL = 3,
} FLTSIM_STREAM_KIND;

typedef struct FLTSIM_HELLO_BODY {
  uint32_t Magic;   /* FLTSIM_WIRE_MAGIC */
  uint16_t Version; /* FLTSIM_WIRE_VERSION */
  uint16_t Kind;    /* FLTSIM_STREAM_KIND */
  uint32_t ProcessId; /* informational: the client's pid (the "current process" for callbacks) */
  uint32_t Reserved;
} FLTSIM_HELLO_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_HELLO_BODY) == 16, "hello body is 16 bytes");

/* Status-only answers. Status is an NTSTATUS; user-side code translates it per spec §1.3. */
typedef struct FLTSIM_STATUS_BODY {
  uint32_t Status;
  uint32_t Reserved;
} FLTSIM_STATUS_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_STATUS_BODY) == 8, "status body is 8 bytes");

typedef struct FLTSIM_CONNECT_BODY {
  uint32_t Options;      /* dwOptions of FilterConnectCommunicationPort */
  uint16_t NameBytes;    /* UTF-16LE byte count of the port name that follows */
  uint16_t ContextBytes; /* wSizeOfContext; the context follows the name */
} FLTSIM_CONNECT_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_CONNECT_BODY) == 8, "connect body is 8 bytes");

typedef struct FLTSIM_GET_BODY {
  uint32_t BufferSize; /* dwMessageBufferSize (FILTER_MESSAGE_HEADER included) */
  uint32_t Reserved;
} FLTSIM_GET_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_GET_BODY) == 8, "get body is 8 bytes");

/* Completion of an overlapped operation: what OVERLAPPED.Internal / InternalHigh would hold.
 * For GET_COMPLETE with Status == STATUS_SUCCESS the bytes that follow are exactly what the
 * kernel wrote into the user buffer (FILTER_MESSAGE_HEADER + payload) and Information equals
 * their count; with STATUS_BUFFER_TOO_SMALL no bytes follow and Information is the size needed. */
typedef struct FLTSIM_COMPLETION_BODY {
  uint32_t Status;
  uint32_t Information;
} FLTSIM_COMPLETION_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_COMPLETION_BODY) == 8, "completion body is 8 bytes");

#define FLTSIM_CANCEL_ALL 0xFFFFFFFFFFFFFFFFull
typedef struct FLTSIM_CANCEL_BODY {
  uint64_t TargetTag; /* the GET/MS_READ to cancel, or FLTSIM_CANCEL_ALL */
} FLTSIM_CANCEL_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_CANCEL_BODY) == 8, "cancel body is 8 bytes");

typedef struct FLTSIM_SEND_BODY {
  uint32_t OutputCapacity; /* dwOutBufferSize */
  uint32_t Flags;          /* bit 0: lpInBuffer was NULL; bit 1: lpOutBuffer was NULL */
} FLTSIM_SEND_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_SEND_BODY) == 8, "send body is 8 bytes");
#define FLTSIM_SEND_IN_NULL 0x1u
#define FLTSIM_SEND_OUT_NULL 0x2u

typedef struct FLTSIM_MS_CREATE_BODY {
  uint32_t MaximumMessageSize; /* 0 = any size */
  uint32_t MailslotQuota;      /* 0 = automatic */
  int64_t ReadTimeout;         /* NT form: 100 ns units, negative = relative, 0 = immediate,
                                  -1 or INT64_MAX = forever (spec §10.2) */
  uint16_t NameBytes;          /* UTF-16LE name, Win32 (\\.\mailslot\x) or NT (\Device\Mailslot\x) form */
  uint16_t Reserved[3];
} FLTSIM_MS_CREATE_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_MS_CREATE_BODY) == 24, "ms create body is 24 bytes");

typedef struct FLTSIM_MS_OPEN_BODY {
  uint16_t NameBytes;
  uint16_t Reserved[3];
} FLTSIM_MS_OPEN_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_MS_OPEN_BODY) == 8, "ms open body is 8 bytes");

/* FILE_MAILSLOT_QUERY_INFORMATION plus the status of the query. */
typedef struct FLTSIM_MS_INFO_BODY {
  uint32_t Status;
  uint32_t MaximumMessageSize;
  uint32_t MailslotQuota;
  uint32_t NextMessageSize; /* 0xFFFFFFFF (MAILSLOT_NO_MESSAGE) when empty */
  uint32_t MessagesAvailable;
  uint32_t Reserved;
  int64_t ReadTimeout;      /* NT form, as stored */
} FLTSIM_MS_INFO_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_MS_INFO_BODY) == 32, "ms info body is 32 bytes");

typedef struct FLTSIM_MS_SET_BODY {
  int64_t ReadTimeout; /* NT form */
} FLTSIM_MS_SET_BODY;
FLTSIM_STATIC_ASSERT(sizeof(FLTSIM_MS_SET_BODY) == 8, "ms set body is 8 bytes");
