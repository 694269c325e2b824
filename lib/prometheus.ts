/**
 * The Prometheus text exposition format (version 0.0.4): metric families in,
 * text out. Pure: the caller owns the numbers.
 *
 * @module
 */

/**
 * The `Content-Type` of the text format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = renderPrometheus([]);
 * const response = new Response(text, {
 *   headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
 * });
 * assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** Label names to values. */
export type Labels = Readonly<Record<string, string>>;

/** One value of a counter or gauge. */
export interface Sample {
  labels?: Labels;
  value: number;
}

/** One histogram series. */
export interface HistogramSample {
  labels?: Labels;
  /** Upper bounds, ascending, without `+Inf`. */
  bounds: readonly number[];
  /**
   * Observations per bucket, not cumulative: `counts[i]` fell in
   * `(bounds[i-1], bounds[i]]`, and `counts[bounds.length]` above the last.
   */
  counts: readonly number[];
  /** Sum of all observations. */
  sum: number;
}

/** A metric family: a name, its help text and its samples. */
export type MetricFamily =
  | {
    name: string;
    help: string;
    type: "counter" | "gauge";
    samples: readonly Sample[];
  }
  | {
    name: string;
    help: string;
    type: "histogram";
    samples: readonly HistogramSample[];
  };

/**
 * Histogram bounds for request and work latencies, in seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(LATENCY_BOUNDS.at(-1), 120); // slower lands in the +Inf bucket
 * ```
 */
export const LATENCY_BOUNDS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

/** Histogram series by labels, accumulated as observations come. */
export class Histograms {
  readonly #series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number }
  >();
  constructor(readonly bounds: readonly number[]) {}

  /** Counts one observation. */
  observe(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels, counts: new Array(this.bounds.length + 1).fill(0), sum: 0 };
      this.#series.set(key, s);
    }
    let i = this.bounds.findIndex((b) => value <= b);
    if (i < 0) i = this.bounds.length;
    s.counts[i]++;
    s.sum += value;
  }

  /** The series, for rendering. */
  samples(): HistogramSample[] {
    return [...this.#series.values()].map((s) => ({
      labels: s.labels,
      bounds: this.bounds,
      counts: s.counts,
      sum: s.sum,
    }));
  }
}

/** Counter series by labels. */
export class Counters {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  /** Adds `by` to the series of `labels`. */
  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  /** The series, for rendering. */
  samples(): Sample[] {
    return [...this.#values.values()].map((v) => ({ ...v }));
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(
    /"/g,
    '\\"',
  );
}

function formatLabels(labels: Labels | undefined, extra?: Labels): string {
  const all = { ...labels, ...extra };
  const keys = Object.keys(all);
  if (keys.length === 0) return "";
  for (const key of keys) {
    if (!LABEL.test(key)) {
      throw new TypeError(`Invalid label name "${key}"`);
    }
  }
  return `{${keys.map((k) => `${k}="${escapeLabel(all[k])}"`).join(",")}}`;
}

/**
 * Renders metric families as Prometheus text, one `# HELP` and `# TYPE`
 * line per family; histograms get cumulative `_bucket` lines (with
 * `le="+Inf"`), `_sum` and `_count`. Throws a `TypeError` for an invalid
 * metric or label name, or a histogram whose counts do not match its bounds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = renderPrometheus([{
 *   name: "jobs_total", help: "Jobs run.", type: "counter",
 *   samples: [{ labels: { kind: "explain" }, value: 3 }],
 * }]);
 * assert.equal(
 *   text,
 *   '# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total{kind="explain"} 3\n',
 * );
 * ```
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!NAME.test(family.name)) {
      throw new TypeError(`Invalid metric name "${family.name}"`);
    }
    const help = family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
    lines.push(`# HELP ${family.name} ${help}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type !== "histogram") {
      for (const s of family.samples) {
        lines.push(
          `${family.name}${formatLabels(s.labels)} ${formatValue(s.value)}`,
        );
      }
      continue;
    }
    for (const s of family.samples) {
      if (s.counts.length !== s.bounds.length + 1) {
        throw new TypeError(
          `Histogram ${family.name}: ${s.counts.length} counts for ${s.bounds.length} bounds (expected bounds + 1)`,
        );
      }
      let cumulative = 0;
      s.bounds.forEach((bound, i) => {
        cumulative += s.counts[i];
        lines.push(
          `${family.name}_bucket${
            formatLabels(s.labels, { le: formatValue(bound) })
          } ${cumulative}`,
        );
      });
      cumulative += s.counts[s.bounds.length];
      lines.push(
        `${family.name}_bucket${
          formatLabels(s.labels, { le: "+Inf" })
        } ${cumulative}`,
      );
      lines.push(
        `${family.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}`,
      );
      lines.push(`${family.name}_count${formatLabels(s.labels)} ${cumulative}`);
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
