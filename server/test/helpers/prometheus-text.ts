/**
 * Reads Prometheus text exposition with parse-prometheus-text-format (a parser library,
 * not a regex) and gives typed lookups: a sample's value by metric name and labels.
 */
import { createRequire } from 'node:module';

export interface ParsedSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: ParsedSample[];
}

const require = createRequire(import.meta.url);
const parser = require('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

export class PrometheusText {
  readonly families: ParsedFamily[];
  constructor(text: string) {
    this.families = parser(text);
  }
  family(name: string): ParsedFamily {
    const family = this.families.find((f) => f.name === name);
    if (family === undefined) throw new Error(`no metric ${name} in the exposition`);
    return family;
  }
  /** The value of the sample of `name` whose labels include `labels` (a number). */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.family(name).metrics.find((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
    );
    if (sample?.value === undefined)
      throw new Error(`no sample ${name}${JSON.stringify(labels)} in the exposition`);
    return Number(sample.value);
  }
}
