export declare const sampleHostPath: string;
export declare function buildSampleHost(options?: { force?: boolean; quiet?: boolean }): string;
