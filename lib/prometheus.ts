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
 * new Response(text, { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
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
 * renderPrometheus([{
 *   name: "jobs_total", help: "Jobs run.", type: "counter",
 *   samples: [{ labels: { kind: "explain" }, value: 3 }],
 * }]);
 * // # HELP jobs_total Jobs run.
 * // # TYPE jobs_total counter
 * // jobs_total{kind="explain"} 3
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
