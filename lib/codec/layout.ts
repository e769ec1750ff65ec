// Introspection: the resolved layout of a codec on a target, as plain data (for docs, tests,
// the C self-test and for people debugging a mismatch against a C header).
import type { AnyCodec } from './codec.js';
import type { Target } from './gen.js';
import { ArrayCodec } from './array.js';
import { AlignedCodec, StructCodec, UnionCodec } from './struct.js';

export interface LayoutNode {
  readonly kind: string;
  readonly typeName?: string;
  /** Offset from the start of the outermost codec; undefined after a variable-size member. */
  readonly offset: number | undefined;
  readonly size: number;
  readonly align: number;
  readonly fixed: boolean;
  readonly fields?: readonly (LayoutNode & { readonly name: string })[];
  readonly element?: LayoutNode;
  readonly count?: number;
}

export function layoutOf(codec: AnyCodec, target: Target = codec.target): LayoutNode {
  return describe(codec, target, 0);
}

function describe(codec: AnyCodec, target: Target, offset: number | undefined): LayoutNode {
  const inner = codec instanceof AlignedCodec ? (codec.inner as AnyCodec) : codec;
  const layout = codec.layoutFor(target);
  const base = {
    kind: inner.kind,
    ...(codec.typeName === undefined ? {} : { typeName: codec.typeName }),
    offset,
    size: layout.size,
    align: layout.align,
    fixed: layout.fixed,
  };
  if (inner instanceof StructCodec || inner instanceof UnionCodec) {
    const fields = inner.layoutFor(target).fields.map((field) => ({
      name: field.name,
      ...describe(field.codec, target, offset === undefined || field.offset === undefined ? undefined : offset + field.offset),
    }));
    return { ...base, fields };
  }
  if (inner instanceof ArrayCodec) {
    return {
      ...base,
      element: describe(inner.element as AnyCodec, target, offset),
      ...(typeof inner.count === 'number' ? { count: inner.count } : {}),
    };
  }
  return base;
}

