// Types for the TypeScript callers of sample-host.mjs (test/helpers/contract-fltsim.ts).
export declare const sampleHostPath: string;
export declare function buildSampleHost(options?: { quiet?: boolean }): string;
