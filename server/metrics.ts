/**
 * What `/metrics` reports: counters and histograms the app updates as it
 * serves, and gauges read when scraped (queue, model, TF.js memory, RSS).
 *
 * @module
 */
import {
  type HistogramSample,
  type Labels,
  type MetricFamily,
  renderPrometheus,
  type Sample,
} from "../lib/prometheus.ts";
import { tensorMemory, type WorkQueue } from "../models/mod.ts";
import type { ModelState } from "./context.ts";

/**
 * Histogram bounds for request and work latencies, in seconds.
 *
 * @example
 * ```ts
 * LATENCY_BOUNDS.at(-1); // 120: slower lands in the +Inf bucket
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

class Histograms {
  readonly #series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number }
  >();
  constructor(readonly bounds: readonly number[]) {}

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

  samples(): HistogramSample[] {
    return [...this.#series.values()].map((s) => ({
      labels: s.labels,
      bounds: this.bounds,
      counts: s.counts,
      sum: s.sum,
    }));
  }
}

class Counters {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  samples(): Sample[] {
    return [...this.#values.values()].map((v) => ({ ...v }));
  }
}

/** Live values read at scrape time. */
export interface MetricsSources {
  queue: WorkQueue;
  model: () => ModelState;
  /** HTTP requests being answered now. */
  inFlight: () => number;
}

/** The app's metrics: record as you go, render when scraped. */
export interface Metrics {
  /** One HTTP request answered (`route` is a fixed name, not the raw path). */
  request(route: string, status: number, seconds: number): void;
  /** One GraphQL error sent, by `extensions.code` (`NONE` without one). */
  error(code: string): void;
  /** A model job (`field`: explain, explainMany, predict, sanityCheck, explainProgress, faithfulness) ended with `outcome`. */
  job(field: string, outcome: string, seconds: number): void;
  /** A method's map was computed in `seconds`. */
  explained(method: string, seconds: number): void;
  /** A queued task started after waiting `seconds`. */
  waited(seconds: number): void;
  /** The Prometheus text of everything. */
  render(sources: MetricsSources): string;
}

/**
 * Creates an empty metrics registry.
 *
 * @example
 * ```ts
 * const metrics = createMetrics();
 * metrics.request("graphql", 200, 0.12);
 * const text = metrics.render({ queue, model: () => state, inFlight: () => 0 });
 * ```
 */
export function createMetrics(): Metrics {
  const requests = new Counters();
  const requestSeconds = new Histograms(LATENCY_BOUNDS);
  const errors = new Counters();
  const jobs = new Counters();
  const jobSeconds = new Histograms(LATENCY_BOUNDS);
  const explainSeconds = new Histograms(LATENCY_BOUNDS);
  const waitSeconds = new Histograms(LATENCY_BOUNDS);
  return {
    request(route, status, seconds) {
      requests.add({ route, status: String(status) });
      requestSeconds.observe({ route }, seconds);
    },
    error(code) {
      errors.add({ code });
    },
    job(field, outcome, seconds) {
      jobs.add({ field, outcome });
      jobSeconds.observe({ field }, seconds);
    },
    explained(method, seconds) {
      explainSeconds.observe({ method }, seconds);
    },
    waited(seconds) {
      waitSeconds.observe({}, seconds);
    },
    render({ queue, model, inFlight }) {
      const state = model();
      const runtime = state.state === "ready" ? state.runtime : null;
      const memory = tensorMemory();
      const gauge = (name: string, help: string, value: number) => ({
        name,
        help,
        type: "gauge" as const,
        samples: [{ value }],
      });
      const counter = (name: string, help: string, value: number) => ({
        name,
        help,
        type: "counter" as const,
        samples: [{ value }],
      });
      const families: MetricFamily[] = [
        {
          name: "lumen_http_requests_total",
          help: "HTTP requests answered, by route and status.",
          type: "counter",
          samples: requests.samples(),
        },
        {
          name: "lumen_http_request_duration_seconds",
          help:
            "Time to the response headers, by route (a streamed body may go on).",
          type: "histogram",
          samples: requestSeconds.samples(),
        },
        gauge(
          "lumen_http_requests_in_flight",
          "HTTP requests being answered.",
          inFlight(),
        ),
        {
          name: "lumen_graphql_errors_total",
          help: "GraphQL errors sent, by extensions.code.",
          type: "counter",
          samples: errors.samples(),
        },
        {
          name: "lumen_jobs_total",
          help:
            "Model jobs by field (explain, explainMany, predict, sanityCheck, explainProgress, faithfulness) and outcome (ok, error, overloaded, refused while shutting down, timeout, cancelled by shutdown, disconnected, done).",
          type: "counter",
          samples: jobs.samples(),
        },
        {
          name: "lumen_job_duration_seconds",
          help:
            "Time from a model job's arrival to its end (queue wait included), by field.",
          type: "histogram",
          samples: jobSeconds.samples(),
        },
        {
          name: "lumen_explain_duration_seconds",
          help: "Time to compute one method's map, by method.",
          type: "histogram",
          samples: explainSeconds.samples(),
        },
        gauge(
          "lumen_queue_length",
          "Model jobs waiting for a slot.",
          queue.queued,
        ),
        gauge("lumen_queue_running", "Model jobs running.", queue.running),
        gauge(
          "lumen_queue_capacity",
          "Most model jobs that may wait (--max-queue).",
          queue.maxQueued,
        ),
        gauge(
          "lumen_queue_concurrency",
          "Most model jobs that may run at once (--concurrency).",
          queue.concurrency,
        ),
        {
          name: "lumen_queue_wait_seconds",
          help: "Time model jobs waited for a slot.",
          type: "histogram",
          samples: waitSeconds.samples(),
        },
        counter(
          "lumen_queue_rejected_total",
          "Model jobs refused because the queue was full (OVERLOADED).",
          queue.stats.rejected,
        ),
        counter(
          "lumen_queue_dropped_total",
          "Model jobs that left the queue unstarted (client gone, time limit, shutdown).",
          queue.stats.dropped,
        ),
        gauge(
          "lumen_model_ready",
          "1 once the model is loaded.",
          runtime ? 1 : 0,
        ),
        {
          name: "lumen_backend_info",
          help: "The TF.js backend the model runs on.",
          type: "gauge",
          samples: runtime
            ? [{
              labels: {
                backend: runtime.backend.name,
                adapter: runtime.backend.adapter ?? "",
                threads: String(runtime.backend.threads),
              },
              value: 1,
            }]
            : [],
        },
        gauge("lumen_tensors", "Live TF.js tensors.", memory.tensors),
        gauge(
          "lumen_tensor_bytes",
          "Bytes held by live TF.js tensors.",
          memory.bytes,
        ),
        counter(
          "lumen_model_forward_passes_total",
          "Shared forward passes run (pass-cache hits excluded).",
          runtime?.counters.forward ?? 0,
        ),
        counter(
          "lumen_model_backward_passes_total",
          "Shared backward passes run.",
          runtime?.counters.backward ?? 0,
        ),
        counter(
          "lumen_model_batch_items_total",
          "Extra inputs run in batches by methods.",
          runtime?.counters.batchItems ?? 0,
        ),
        counter(
          "lumen_model_batches_total",
          "Batched passes of concurrent requests (--batch).",
          runtime?.counters.batches ?? 0,
        ),
        counter(
          "lumen_pass_cache_hits_total",
          "Pass-cache hits.",
          runtime?.cache.stats.hits ?? 0,
        ),
        counter(
          "lumen_pass_cache_misses_total",
          "Pass-cache misses.",
          runtime?.cache.stats.misses ?? 0,
        ),
        gauge(
          "lumen_pass_cache_entries",
          "Lower-pass states in the pass cache.",
          runtime?.cache.size ?? 0,
        ),
        gauge(
          "lumen_pass_cache_bytes",
          "Device bytes held by the pass cache.",
          runtime?.cache.bytes ?? 0,
        ),
        gauge(
          "process_resident_memory_bytes",
          "Resident set size of the process.",
          Deno.memoryUsage().rss,
        ),
      ];
      return renderPrometheus(families);
    },
  };
}
