// Resolves the binding a public function uses: the one passed in options (tests inject a
// fake), else the real addon, loaded on first use so that importing fltport never needs the
// .node. Either way the error factory is registered exactly once per binding, before the
// first call that could fail.
import { loadBinding, type NativeBinding } from './binding.js';
import { createNativeError } from './errors.js';

const prepared = new WeakSet<NativeBinding>();

/** Registers lib/errors.ts's factory on `binding` (once) and returns it. */
export function prepareBinding(binding: NativeBinding): NativeBinding {
  if (!prepared.has(binding)) {
    binding.setErrorFactory(createNativeError);
    prepared.add(binding);
  }
  return binding;
}

/** The binding to use: `injected` when given, else the addon (loaded lazily). */
export function resolveBinding(injected?: NativeBinding): NativeBinding {
  return prepareBinding(injected ?? loadBinding());
}
