// Types for test/unit/build.ci.test.ts, which imports the counting rules of count-results.mjs.
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
export function countCtestJunit(xml: string): Counts;
export function countVitestJson(report: unknown): Counts;
