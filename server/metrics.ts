/**
 * What `/metrics` reports: counters and histograms the app updates as it
 * serves, and gauges read when scraped from the explanation service
 * (queue lanes, model work, worker processes) and the process.
 *
 * @module
 */
import {
  Counters,
  Histograms,
  LATENCY_BOUNDS,
  type MetricFamily,
  processCpuSeconds,
  renderPrometheus,
} from "../lib/mod.ts";
import type { ResolverMetrics } from "../schema/mod.ts";
import type { ServiceState, ServiceStats } from "../workers/mod.ts";

/** Live values read at scrape time. */
export interface MetricsSources {
  /** The explanation service's counts. */
  stats: () => ServiceStats;
  /** The default model's state. */
  state: () => ServiceState;
  /** HTTP requests being answered now. */
  inFlight: () => number;
  /** More families (e.g. the job queue's). */
  extra?: () => MetricFamily[];
}

/** The app's metrics: record as you go, render when scraped. */
export interface Metrics extends ResolverMetrics {
  /** One HTTP request answered (`route` is a fixed name, not the raw path). */
  request(route: string, status: number, seconds: number): void;
  /** The Prometheus text of everything. */
  render(sources: MetricsSources): string;
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: "gauge", samples: [{ value }] };
}

function counter(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: "counter", samples: [{ value }] };
}

/** Families read from the explanation service at scrape time. */
function serviceFamilies(
  stats: ServiceStats,
  state: ServiceState,
): MetricFamily[] {
  const { queue, work, workers } = stats;
  const model = state.state === "ready" ? state.model : null;
  return [
    gauge(
      "lumen_queue_length",
      "Model jobs waiting for a slot.",
      queue.queued.light + queue.queued.heavy,
    ),
    {
      name: "lumen_queue_lane_length",
      help:
        "Model jobs waiting, by lane (light: at most --light-cost passes; heavy: more).",
      type: "gauge",
      samples: (["light", "heavy"] as const).map((lane) => ({
        labels: { lane },
        value: queue.queued[lane],
      })),
    },
    gauge(
      "lumen_queue_running",
      "Model jobs running.",
      queue.running.light + queue.running.heavy,
    ),
    gauge(
      "lumen_queue_capacity",
      "Most model jobs that may wait in each lane (--max-queue).",
      queue.maxQueued,
    ),
    gauge(
      "lumen_queue_concurrency",
      "Model worker slots (--concurrency); each runs one heavy and one light job at a time.",
      queue.slots,
    ),
    {
      name: "lumen_queue_wait_seconds",
      help: "Time model jobs waited for a slot.",
      type: "histogram",
      samples: queue.waitSeconds,
    },
    counter(
      "lumen_queue_rejected_total",
      "Model jobs refused because the queue was full (OVERLOADED).",
      queue.rejected,
    ),
    counter(
      "lumen_queue_dropped_total",
      "Model jobs that left the queue unstarted (client gone, time limit, shutdown).",
      queue.dropped,
    ),
    gauge("lumen_model_ready", "1 once the model is loaded.", model ? 1 : 0),
    {
      name: "lumen_backend_info",
      help: "The engine the default model runs on.",
      type: "gauge",
      samples: model
        ? [{
          labels: {
            backend: model.backend.name,
            adapter: model.backend.adapter ?? "",
            threads: String(model.backend.threads),
          },
          value: 1,
        }]
        : [],
    },
    gauge("lumen_tensors", "Live TF.js tensors (all workers).", work.tensors),
    gauge(
      "lumen_tensor_bytes",
      "Bytes held by live TF.js tensors (all workers).",
      work.tensorBytes,
    ),
    counter(
      "lumen_model_forward_passes_total",
      "Shared forward passes run (pass-cache hits excluded).",
      work.forward,
    ),
    counter(
      "lumen_model_backward_passes_total",
      "Shared backward passes run.",
      work.backward,
    ),
    counter(
      "lumen_model_batch_items_total",
      "Extra inputs run in batches by methods.",
      work.batchItems,
    ),
    counter(
      "lumen_model_batches_total",
      "Batched passes of concurrent requests (--batch).",
      work.batches,
    ),
    counter("lumen_pass_cache_hits_total", "Pass-cache hits.", work.cacheHits),
    counter(
      "lumen_pass_cache_misses_total",
      "Pass-cache misses.",
      work.cacheMisses,
    ),
    gauge(
      "lumen_pass_cache_entries",
      "Lower-pass states in the pass cache.",
      work.cacheEntries,
    ),
    gauge(
      "lumen_pass_cache_bytes",
      "Bytes held by the pass cache.",
      work.cacheBytes,
    ),
    gauge(
      "lumen_workers",
      "Model worker processes alive (0: the model runs in this process).",
      workers.alive,
    ),
    {
      name: "lumen_worker_restarts_total",
      help:
        "Model worker processes replaced, by reason (crash, timeout, memory).",
      type: "counter",
      samples: Object.entries(workers.restarts).map(([reason, value]) => ({
        labels: { reason },
        value,
      })),
    },
    gauge(
      "lumen_worker_resident_memory_bytes",
      "Resident set size of the model worker processes together.",
      workers.residentBytes,
    ),
    counter(
      "lumen_worker_cpu_seconds_total",
      "CPU time of the model worker processes together, as of their last answers (replaced ones included).",
      workers.cpuSeconds,
    ),
  ];
}

/**
 * Creates an empty metrics registry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, modelEntries, SHIPPED_MODEL } from "../models/mod.ts";
 * import { createLocalService } from "../workers/mod.ts";
 * // A service whose model file is missing: it reads as failed, nothing loads.
 * const models = createModelSet(modelEntries([{ ...SHIPPED_MODEL, path: "no-such-model.onnx" }]));
 * const service = createLocalService({ models, registry: createRegistry() });
 * await service.ready().catch(() => {});
 * const metrics = createMetrics();
 * metrics.request("graphql", 200, 0.12);
 * const text = metrics.render({ stats: service.stats, state: service.state, inFlight: () => 0 });
 * assert.match(text, /^lumen_http_requests_total\{route="graphql",status="200"\} 1$/m);
 * assert.match(text, /^lumen_model_ready 0$/m);
 * await service.close();
 * ```
 */
export function createMetrics(): Metrics {
  const requests = new Counters();
  const requestSeconds = new Histograms(LATENCY_BOUNDS);
  const errors = new Counters();
  const jobs = new Counters();
  const jobSeconds = new Histograms(LATENCY_BOUNDS);
  const explainSeconds = new Histograms(LATENCY_BOUNDS);
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
    render({ stats, state, inFlight, extra }) {
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
        ...serviceFamilies(stats(), state()),
        ...(extra?.() ?? []),
        gauge(
          "process_resident_memory_bytes",
          "Resident set size of the process.",
          Deno.memoryUsage().rss,
        ),
        counter(
          "process_cpu_seconds_total",
          "CPU time of the process, user and system.",
          processCpuSeconds(),
        ),
      ];
      return renderPrometheus(families);
    },
  };
}
