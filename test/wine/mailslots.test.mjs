// Mailslots through the public API. Under Wine they are Wine's own mailslots (its server's
// implementation, which Wine's conformance tests check against Windows): the Windows
// addon's NtCreateMailslotFile/overlapped ReadFile/completion-port path. Under Linux
// (target "fltsim") the same cases run against fltsim's simulated mailslots: both must
// give the values in EXPECT.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import { EXPECT, MAILSLOTS, TARGET, assertFltportError, bytesHex, fltport, uniqueName, within } from './lane.mjs';

const { Mailslot } = fltport;
const T = 15_000;
const slotName = () => `\\\\.\\mailslot\\fltport\\wine\\${uniqueName('slot')}`;

describe(`mailslots (${TARGET})`, () => {
  test('write then read: one whole message each, in order; info() counts them', async () => {
    const name = slotName();
    const slot = await within(T, Mailslot.create(name, { maxMessageSize: 1024 }), 'create');
    try {
      await within(T, Mailslot.write(name, Uint8Array.from([1, 2, 3])), 'write 1');
      await within(T, Mailslot.write(name, Uint8Array.from([4, 5])), 'write 2');
      const info = slot.info();
      assert.equal(info.count, MAILSLOTS.countAfterTwoWrites);
      assert.equal(info.nextSize, 3);
      assert.equal(info.maxMessageSize, 1024);
      assert.equal(bytesHex(await within(T, slot.read(), 'read 1')), '010203');
      assert.equal(bytesHex(await within(T, slot.read(), 'read 2')), '0405');
      const empty = slot.info();
      assert.equal(empty.count, 0);
      assert.equal(empty.nextSize, null);
    } finally {
      await slot.close();
    }
  });

  test('a message larger than the first read buffer (64 KiB) arrives whole', { skip: MAILSLOTS.over64KiB }, async () => {
    const name = slotName();
    const slot = await within(T, Mailslot.create(name), 'create');
    try {
      const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
      await within(T, Mailslot.write(name, big), 'write');
      const got = await within(T, slot.read(), 'read');
      assert.equal(got.length, big.length);
      assert.equal(bytesHex(got.subarray(65530, 65540)), bytesHex(big.subarray(65530, 65540)));
    } finally {
      await slot.close();
    }
  });

  test('a zero-length message: 0 bytes (Wine 8: ERROR_BROKEN_PIPE), and the next message still arrives', async () => {
    const name = slotName();
    const slot = await within(T, Mailslot.create(name), 'create');
    try {
      await within(T, Mailslot.write(name, new Uint8Array(0)), 'write empty');
      await within(T, Mailslot.write(name, Uint8Array.from([7])), 'write');
      if (MAILSLOTS.zeroLengthRead === null) {
        assert.equal((await within(T, slot.read(), 'read empty')).length, 0);
      } else {
        const error = await within(T, slot.read().then(() => assert.fail('read resolved'), (e) => e), 'read empty');
        assertFltportError(error, MAILSLOTS.zeroLengthRead, 'read of a zero-length message');
      }
      assert.equal(bytesHex(await within(T, slot.read(), 'read')), '07');
    } finally {
      await slot.close();
    }
  });

  test('readTimeout 0 on an empty mailslot: TimeoutError 0x80070079 at once', async () => {
    const slot = await within(T, Mailslot.create(slotName(), { readTimeout: 0 }), 'create');
    try {
      const t0 = performance.now();
      const error = await slot.read().then(() => assert.fail('read resolved'), (e) => e);
      assertFltportError(error, EXPECT.mailslotTimeout, 'read');
      assert.ok(performance.now() - t0 < 5000, 'an immediate timeout took seconds');
      assert.equal(slot.info().readTimeout, 0);
    } finally {
      await slot.close();
    }
  });

  test('a finite readTimeout elapses, then the same error; setReadTimeout changes it', async () => {
    const slot = await within(T, Mailslot.create(slotName(), { readTimeout: 300 }), 'create');
    try {
      const t0 = performance.now();
      const error = await within(T, slot.read().then(() => assert.fail('read resolved'), (e) => e), 'read');
      const waited = performance.now() - t0;
      assertFltportError(error, EXPECT.mailslotTimeout, 'read');
      assert.ok(waited >= 250, `timed out after ${waited.toFixed(0)} ms, before the 300 ms timeout`);
      slot.setReadTimeout(Number.POSITIVE_INFINITY);
      assert.equal(slot.info().readTimeout, Number.POSITIVE_INFINITY);
    } finally {
      await slot.close();
    }
  });

  test('a pending read ends with ClosedError when the mailslot closes', async () => {
    const slot = await within(T, Mailslot.create(slotName()), 'create');
    // The outcome is taken at once: a rejection nobody handles yet would fail the test.
    const pending = slot.read().then(() => assert.fail('read resolved'), (e) => e);
    await within(T, slot.close(), 'close');
    const error = await within(T, pending, 'read');
    assert.equal(error.code, 'FLTPORT_CLOSED');
  });

  test('a taken name: AlreadyExistsError 0x800700B7', async () => {
    const name = slotName();
    const slot = await within(T, Mailslot.create(name), 'create');
    try {
      const error = await Mailslot.create(name).then(
        (s) => s.close().then(() => assert.fail('second create succeeded')),
        (e) => e,
      );
      assertFltportError(error, EXPECT.mailslotExists, 'second create');
    } finally {
      await slot.close();
    }
  });

  test('writing to a mailslot nobody created: NotFoundError 0x80070002', async () => {
    const error = await Mailslot.write(slotName(), Uint8Array.from([1])).then(
      () => assert.fail('write succeeded'),
      (e) => e,
    );
    assertFltportError(error, EXPECT.mailslotNotFound, 'write');
  });
});
