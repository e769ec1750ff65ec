// Types for test/unit/build.ci.test.ts, which imports the counting rules of count-results.mjs.
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
export function countCtestJunit(xml: string): Counts;
export function countVitestJson(report: unknown): Counts;
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}
export function parseXmlElements(xml: string): XmlElement;
