// Filter management (FilterFind*, FilterInstanceFind*, FilterVolumeFind*, FilterLoad/Unload,
// FilterAttach/Detach, FilterGetDosName): thin typed wrappers. Each call runs on a native
// worker; names are checked here so a typo fails with the argument named, not with a bare
// ERROR_FLT_FILTER_NOT_FOUND.
import type { NativeBinding, NativeManagementContext } from './binding.js';
import { abortErrorFrom } from './errors.js';
import { resolveBinding } from './native.js';
import { checkOptions, describe, fail, signalOption, stringOption, throwIfAborted } from './validate.js';

/** FLT_FILESYSTEM_TYPE names (fltUserStructures.h), indexed by value. */
export const FILESYSTEM_TYPES = [
  'unknown', 'raw', 'ntfs', 'fat', 'cdfs', 'udfs', 'lanman', 'webdav', 'rdpdr', 'nfs',
  'ms_netware', 'netware', 'bsudf', 'mup', 'rsfx', 'roxio_udf1', 'roxio_udf2', 'roxio_udf3',
  'tacit', 'fs_rec', 'incd', 'incd_fat', 'exfat', 'psfs', 'gpfs', 'npfs', 'msfs', 'csvfs',
  'refs', 'openafs', 'cimfs',
] as const;

export type FilesystemTypeName = (typeof FILESYSTEM_TYPES)[number];

/** The FLT_FSTYPE_* name for a value ("ntfs"), or `type-<n>` for one newer than this table. */
export function filesystemTypeName(value: number): FilesystemTypeName | `type-${number}` {
  return FILESYSTEM_TYPES[value] ?? `type-${value}`;
}

export interface FilterInfo {
  name: string;
  altitude: string;
  instanceCount: number;
  frameId: number;
  /** A legacy (non-minifilter) file-system filter driver. */
  legacy: boolean;
}

export interface InstanceInfo {
  name: string;
  altitude: string;
  volumeName: string;
  filterName: string;
  frameId: number;
  /** FLT_FILESYSTEM_TYPE value and name of the volume's file system. */
  volumeType: number;
  volumeTypeName: string;
  detachAllowed: boolean;
}

export interface VolumeInfo {
  /** \Device\HarddiskVolume3 */
  name: string;
  /** "C:", or null when the volume has no DOS name. */
  dosName: string | null;
  frameId: number;
  filesystemType: number;
  filesystemTypeName: string;
}

export interface FiltersOptions {
  /** fltsim only: the simulator's runtime directory. */
  simRuntimeDir?: string;
  /** The native binding; tests inject a fake. */
  binding?: NativeBinding;
}

export interface AttachOptions {
  /** Instance name; default: the filter's default instance. */
  instance?: string;
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
}

function nameArg(where: string, argument: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(where, argument, `must be a non-empty string, got ${describe(value)}`);
  if (value.includes('\0')) fail(where, argument, 'must not contain NUL characters');
  if (value.length > 0x7fff) fail(where, argument, `is ${value.length} characters; at most 32767`);
  return value;
}

function callOptions(where: string, options: unknown, extra: readonly string[] = []): { signal: AbortSignal | undefined; opts: Record<string, unknown> } {
  const opts = checkOptions(where, options, ['signal', ...extra]);
  const signal = signalOption(where, opts['signal']);
  throwIfAborted(signal, where);
  return { signal, opts };
}

/** Waits for a worker result unless `signal` aborts first (the worker still runs to its end). */
/** attach's and detach's arguments, checked in order; `instance` is '' for the default. */
function instanceArgs(where: string, filter: unknown, volume: unknown, options: unknown): { name: string; vol: string; instance: string; signal: AbortSignal | undefined } {
  const name = nameArg(where, 'filter', filter);
  const vol = nameArg(where, 'volume', volume);
  const { signal, opts } = callOptions(where, options, ['instance']);
  const instance = opts['instance'] === undefined ? '' : nameArg(where, 'instance', opts['instance']);
  return { name, vol, instance, signal };
}

async function bounded<T>(work: Promise<T>, signal: AbortSignal | undefined, where: string): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorFrom(signal, where));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Filter management bound to one binding and simulator directory. */
export class Filters {
  readonly #injected: NativeBinding | undefined;
  readonly #ctx: NativeManagementContext;

  constructor(options?: FiltersOptions) {
    const opts = checkOptions('filters', options, ['simRuntimeDir', 'binding']);
    this.#ctx = { simRuntimeDir: stringOption('filters', 'simRuntimeDir', opts['simRuntimeDir'], '') };
    this.#injected = opts['binding'] as NativeBinding | undefined;
  }

  // Resolved per call so that `import { filters }` never loads the addon by itself.
  get #binding(): NativeBinding {
    return resolveBinding(this.#injected);
  }

  /** FilterFindFirst/Next: every registered filter. */
  async list(options?: CallOptions): Promise<FilterInfo[]> {
    const { signal } = callOptions('filters.list', options);
    const raw = await bounded(this.#binding.listFilters(this.#ctx), signal, 'filters.list');
    return raw.map((f) => ({ name: f.name, altitude: f.altitude, instanceCount: f.instanceCount, frameId: f.frameId, legacy: f.legacy }));
  }

  /** FilterInstanceFindFirst/Next: the instances of one filter. */
  async instances(filter: string, options?: CallOptions): Promise<InstanceInfo[]> {
    const name = nameArg('filters.instances', 'filter', filter);
    const { signal } = callOptions('filters.instances', options);
    const raw = await bounded(this.#binding.listInstances(this.#ctx, name), signal, 'filters.instances');
    return raw.map((i) => ({
      name: i.name,
      altitude: i.altitude,
      volumeName: i.volumeName,
      filterName: i.filterName,
      frameId: i.frameId,
      volumeType: i.volumeType,
      volumeTypeName: filesystemTypeName(i.volumeType),
      detachAllowed: i.detachAllowed,
    }));
  }

  /** FilterVolumeFindFirst/Next: every volume the Filter Manager knows. */
  async volumes(options?: CallOptions): Promise<VolumeInfo[]> {
    const { signal } = callOptions('filters.volumes', options);
    const raw = await bounded(this.#binding.listVolumes(this.#ctx), signal, 'filters.volumes');
    return raw.map((v) => ({
      name: v.name,
      dosName: v.dosName === '' ? null : v.dosName,
      frameId: v.frameId,
      filesystemType: v.filesystemType,
      filesystemTypeName: filesystemTypeName(v.filesystemType),
    }));
  }

  /** FilterLoad (enables SeLoadDriverPrivilege on Windows). */
  async load(filter: string, options?: CallOptions): Promise<void> {
    const name = nameArg('filters.load', 'filter', filter);
    const { signal } = callOptions('filters.load', options);
    await bounded(this.#binding.loadFilter(this.#ctx, name), signal, 'filters.load');
  }

  /** FilterUnload: every connection to the filter's ports ends (iterators see DisconnectedError). */
  async unload(filter: string, options?: CallOptions): Promise<void> {
    const name = nameArg('filters.unload', 'filter', filter);
    const { signal } = callOptions('filters.unload', options);
    await bounded(this.#binding.unloadFilter(this.#ctx, name), signal, 'filters.unload');
  }

  /** FilterAttach: resolves with the name of the instance created. `volume` is "C:" or "\\Device\\HarddiskVolume3". */
  async attach(filter: string, volume: string, options?: AttachOptions): Promise<string> {
    const where = 'filters.attach';
    const { name, vol, instance, signal } = instanceArgs(where, filter, volume, options);
    return bounded(this.#binding.attachFilter(this.#ctx, name, vol, instance), signal, where);
  }

  /** FilterDetach: `instance` defaults to the filter's default instance. */
  async detach(filter: string, volume: string, options?: AttachOptions): Promise<void> {
    const where = 'filters.detach';
    const { name, vol, instance, signal } = instanceArgs(where, filter, volume, options);
    await bounded(this.#binding.detachFilter(this.#ctx, name, vol, instance), signal, where);
  }

  /** FilterGetDosName: "C:" for "\\Device\\HarddiskVolume3"; null when the volume has none. */
  async dosName(volume: string, options?: CallOptions): Promise<string | null> {
    const vol = nameArg('filters.dosName', 'volume', volume);
    const { signal } = callOptions('filters.dosName', options);
    const dos = await bounded(this.#binding.getDosName(this.#ctx, vol), signal, 'filters.dosName');
    return dos === '' ? null : dos;
  }
}

/** Filter management with the default binding; `new Filters({ simRuntimeDir })` for another simulator. */
export const filters = new Filters();
