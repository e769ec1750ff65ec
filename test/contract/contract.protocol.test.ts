// The sample's wire codecs (samples/scanner-service/protocol.ts) are generated from
// samples/minifilter/inc/fltport_sample.h with fltport's codegen. Regenerating must give the
// committed text byte for byte, so header and codecs cannot drift apart. To regenerate:
//   npm run build:ts && node dist/cli.js codegen samples/minifilter/inc/fltport_sample.h \
//     -o samples/scanner-service/protocol.ts --import-from ../../lib/codec/index.js
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateFromHeader } from '../../lib/codec/codegen/index.js';
import * as P from '../../samples/scanner-service/protocol.js';

const header = fileURLToPath(new URL('../../samples/minifilter/inc/fltport_sample.h', import.meta.url));
const generated = fileURLToPath(new URL('../../samples/scanner-service/protocol.ts', import.meta.url));

describe('sample protocol codecs', () => {
  it('protocol.ts is exactly what the codegen makes from fltport_sample.h', () => {
    const text = generateFromHeader(readFileSync(header, 'utf8'), { sourceName: 'fltport_sample.h', importFrom: '../../lib/codec/index.js' });
    expect(readFileSync(generated, 'utf8')).toBe(text);
  });

  it('sizes match the README wire layout (the C compiler\'s static asserts)', () => {
    expect({
      header: P.FPS_MESSAGE_HEADER.size,
      context: P.FPS_CONNECT_CONTEXT.size,
      request: P.FPS_SCAN_REQUEST.size,
      reply: P.FPS_SCAN_REPLY.size,
      notify: P.FPS_NOTIFY.size,
      control: P.FPS_CONTROL_HEADER.size,
      stats: P.FPS_STATS.size,
      statsResult: P.FPS_CMD_GET_STATS_RESULT.size,
      testSend: P.FPS_CMD_TEST_SEND.size,
      outcome: P.FPS_TEST_OUTCOME.size,
      results: P.FPS_CMD_TEST_RESULTS.size,
      connection: P.FPS_CONNECTION_INFO.size,
      createPort: P.FPS_CMD_TEST_CREATE_PORT.size,
    }).toEqual({
      header: 24, context: 16, request: 2128, reply: 32, notify: 552, control: 32, stats: 288, statsResult: 320,
      testSend: 80, outcome: 56, results: 104, connection: 48, createPort: 264,
    });
    expect(P.FPS_SCAN_REQUEST.offsetOf('Content')).toBe(1104);
    expect(P.FPS_CMD_TEST_CREATE_PORT.offsetOf('Sid')).toBe(192);
    expect(P.FPS_SCAN_REPLY_BUFFER_SIZE).toBe(16 + 32);
  });
});
