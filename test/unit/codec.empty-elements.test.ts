import { describe, expect, it } from 'vitest';
import { array, CodecError, struct, u8, u32 } from '../../lib/codec/index.js';
import { ZERO_SIZE_ELEMENT_CAP } from '../../lib/codec/array.js';

// Elements whose encoding may be empty (here: lists whose count lives in the outer struct)
// cannot be bounded by the bytes left, so the count is capped instead (found by the
// round-trip property: n = 1, list = [[]] at the very end of the input was refused).
describe('counted arrays of possibly-empty elements', () => {
  const Lists = struct({ n: u32, m: u8, lists: array(array(u8, { countFrom: 'm' }), { countFrom: 'n' }) });

  it('decodes empty elements at the end of the input', () => {
    const bytes = Lists.encode({ n: 1, m: 0, lists: [[]] });
    expect([...bytes]).toEqual([1, 0, 0, 0, 0]);
    expect(Lists.decode(bytes)).toEqual({ n: 1, m: 0, lists: [[]] });
    const three = Lists.encode({ n: 3, m: 0, lists: [[], [], []] });
    expect(Lists.decode(three).lists).toHaveLength(3);
  });

  it('refuses a hostile count with a CodecError instead of allocating it', () => {
    const hostile = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0]);
    let caught: unknown;
    try {
      Lists.decode(hostile);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CodecError);
    expect((caught as CodecError).message).toContain(`exceeds ${ZERO_SIZE_ELEMENT_CAP}`);
    expect((caught as CodecError).path).toBe('lists');
  });

  it('allows more when the schema declares a max', () => {
    const Big = struct({ n: u32, m: u8, lists: array(array(u8, { countFrom: 'm' }), { countFrom: 'n', max: 100_000 }) });
    const value = { n: ZERO_SIZE_ELEMENT_CAP + 1, m: 0, lists: Array.from({ length: ZERO_SIZE_ELEMENT_CAP + 1 }, () => []) };
    expect(Big.decode(Big.encode(value)).lists).toHaveLength(ZERO_SIZE_ELEMENT_CAP + 1);
  });
});
