import assert from "node:assert/strict";
import { renderPrometheus } from "../../lib/prometheus.ts";

Deno.test("counters and gauges: HELP, TYPE, labels escaped", () => {
  const text = renderPrometheus([
    {
      name: "jobs_total",
      help: "Jobs run.\nSecond line with \\.",
      type: "counter",
      samples: [
        { labels: { kind: "explain" }, value: 3 },
        { labels: { kind: 'a "quoted"\\ new\nline' }, value: 1.5 },
      ],
    },
    { name: "up", help: "Up.", type: "gauge", samples: [{ value: NaN }] },
    {
      name: "edges",
      help: "Infinities.",
      type: "gauge",
      samples: [{ labels: { s: "+" }, value: Infinity }, {
        labels: { s: "-" },
        value: -Infinity,
      }],
    },
  ]);
  assert.equal(
    text,
    [
      "# HELP jobs_total Jobs run.\\nSecond line with \\\\.",
      "# TYPE jobs_total counter",
      'jobs_total{kind="explain"} 3',
      'jobs_total{kind="a \\"quoted\\"\\\\ new\\nline"} 1.5',
      "# HELP up Up.",
      "# TYPE up gauge",
      "up NaN",
      "# HELP edges Infinities.",
      "# TYPE edges gauge",
      'edges{s="+"} +Inf',
      'edges{s="-"} -Inf',
      "",
    ].join("\n"),
  );
});

Deno.test("histograms: cumulative buckets, +Inf, sum and count", () => {
  const text = renderPrometheus([{
    name: "latency_seconds",
    help: "Latency.",
    type: "histogram",
    samples: [{
      labels: { method: "gradcam" },
      bounds: [0.1, 1],
      counts: [2, 1, 3],
      sum: 9.5,
    }],
  }]);
  assert.equal(
    text,
    [
      "# HELP latency_seconds Latency.",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{method="gradcam",le="0.1"} 2',
      'latency_seconds_bucket{method="gradcam",le="1"} 3',
      'latency_seconds_bucket{method="gradcam",le="+Inf"} 6',
      'latency_seconds_sum{method="gradcam"} 9.5',
      'latency_seconds_count{method="gradcam"} 6',
      "",
    ].join("\n"),
  );
});

Deno.test("invalid names and histogram shapes throw", () => {
  assert.throws(
    () =>
      renderPrometheus([{
        name: "bad-name",
        help: "",
        type: "gauge",
        samples: [],
      }]),
    /Invalid metric name "bad-name"/,
  );
  assert.throws(
    () =>
      renderPrometheus([{
        name: "ok",
        help: "",
        type: "gauge",
        samples: [{ labels: { "1x": "v" }, value: 1 }],
      }]),
    /Invalid label name "1x"/,
  );
  assert.throws(
    () =>
      renderPrometheus([{
        name: "h",
        help: "",
        type: "histogram",
        samples: [{ bounds: [1], counts: [1], sum: 1 }],
      }]),
    /1 counts for 1 bounds/,
  );
  assert.equal(renderPrometheus([]), "");
});
