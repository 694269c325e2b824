/**
 * `Subscription.explainProgress` over server-sent events, on the tiny
 * network: events in order, ending with the explanation; errors as a
 * result; through the queue; a client that leaves stops the work.
 */
import assert from "node:assert/strict";
import {
  type GraphQLBody,
  graphqlRequest,
  parseSse,
  queueOf,
  uploadRequest,
  withServer,
} from "./_helpers.ts";
import { ablationCamExplainer } from "../../explainers/ablation_cam.ts";
import { integratedGradientsExplainer } from "../../explainers/integrated_gradients.ts";
import { occlusionExplainer } from "../../explainers/occlusion.ts";
import { scoreCamExplainer } from "../../explainers/score_cam.ts";
import { smoothGradExplainer } from "../../explainers/smooth_grad.ts";
import {
  EXPLAIN_QUERY,
  gateExplainer,
  tinyApp,
  tinyPng,
  until,
} from "./_tiny_app.ts";

const LONG_METHODS = () => [
  scoreCamExplainer(),
  ablationCamExplainer(),
  occlusionExplainer(),
  smoothGradExplainer(),
  integratedGradientsExplainer(),
];

const PROGRESS_QUERY = `
  subscription($b: String!, $method: String!, $options: JSON) {
    explainProgress(image: { base64: $b }, method: $method, layer: "b_out",
      options: $options) {
      fraction
      explanation { method label map { width height values } overlay }
    }
  }`;

interface ProgressEvent {
  fraction: number;
  explanation: {
    method: string;
    map: { width: number; height: number; values: number[] };
    overlay: string;
  } | null;
}

/** The `next` payloads of an SSE response, checking it ends with `complete`. */
async function sseResults(response: Response): Promise<GraphQLBody[]> {
  assert.equal(response.status, 200);
  assert.match(
    response.headers.get("content-type") ?? "",
    /text\/event-stream/,
  );
  const events = parseSse(await response.text());
  assert.equal(events.at(-1)?.event, "complete", JSON.stringify(events));
  return events.slice(0, -1).map((e) => {
    assert.equal(e.event, "next");
    return JSON.parse(e.data);
  });
}

function progressOf(results: GraphQLBody[]): ProgressEvent[] {
  return results.map((r) => {
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.explainProgress as ProgressEvent;
  });
}

/** Checks the order: 0 first, non-decreasing, the explanation last only. */
function checkOrder(events: ProgressEvent[], method: string): void {
  assert.ok(events.length >= 2, JSON.stringify(events));
  assert.equal(events[0].fraction, 0);
  for (let i = 1; i < events.length; i++) {
    assert.ok(
      events[i].fraction >= events[i - 1].fraction,
      `fractions ${events.map((e) => e.fraction)}`,
    );
  }
  const last = events.at(-1)!;
  assert.equal(last.fraction, 1);
  assert.equal(last.explanation?.method, method);
  assert.ok(last.explanation!.overlay.startsWith("data:image/png;base64,"));
  for (const v of last.explanation!.map.values) assert.ok(v >= 0 && v <= 1);
  for (const e of events.slice(0, -1)) {
    assert.equal(e.explanation, null);
    assert.ok(e.fraction < 1);
  }
}

const OPTIONS: Record<string, unknown> = {
  scorecam: { topChannels: 8, batchSize: 2 },
  occlusion: { batchSize: 16 },
  ablationcam: { topChannels: 8, batchSize: 2 },
  smoothgrad: { samples: 4, batchSize: 1 },
  integratedgradients: { steps: 4, batchSize: 1 },
};

Deno.test("explainProgress over HTTP (SSE): scorecam and occlusion report progress in order, then the explanation", async () => {
  const { app } = await tinyApp(LONG_METHODS());
  const b = await tinyPng(20);
  await withServer(app, async (base) => {
    for (const method of ["scorecam", "occlusion"]) {
      const response = await fetch(
        graphqlRequest(
          PROGRESS_QUERY,
          { b, method, options: { [method]: OPTIONS[method] } },
          { base, accept: "text/event-stream" },
        ),
      );
      const events = progressOf(await sseResults(response));
      checkOrder(events, method);
      const middle = events.filter((e) => e.fraction > 0 && e.fraction < 1);
      assert.ok(
        middle.length >= 1,
        `${method}: ${events.map((e) => e.fraction)}`,
      );
    }
  });
});

Deno.test("explainProgress in-process: every long method, and a method without progress", async () => {
  const { app } = await tinyApp(LONG_METHODS());
  const b = await tinyPng(21);
  for (const method of [...Object.keys(OPTIONS), "gradcam"]) {
    const response = await app.fetch(
      graphqlRequest(
        PROGRESS_QUERY,
        {
          b,
          method,
          options: method in OPTIONS ? { [method]: OPTIONS[method] } : null,
        },
        { accept: "text/event-stream" },
      ),
    );
    checkOrder(progressOf(await sseResults(response)), method);
  }
});

Deno.test("explainProgress with an uploaded image (multipart POST accepting text/event-stream)", async () => {
  const { app } = await tinyApp(LONG_METHODS());
  const png = Uint8Array.from(atob(await tinyPng(25)), (c) => c.charCodeAt(0));
  const upload = uploadRequest(
    `subscription($f: File!) {
      explainProgress(image: { file: $f }, method: "scorecam", layer: "b_out",
        options: { scorecam: { topChannels: 8, batchSize: 4 } }) {
        fraction
        explanation { method label map { width height values } overlay }
      }
    }`,
    "f",
    new File([png], "tiny.png", { type: "image/png" }),
  );
  const headers = new Headers(upload.headers);
  headers.set("accept", "text/event-stream");
  const response = await app.fetch(new Request(upload, { headers }));
  checkOrder(progressOf(await sseResults(response)), "scorecam");
});

Deno.test("explainProgress: bad arguments are one result with errors, before any work", async () => {
  const { app } = await tinyApp(LONG_METHODS());
  const b = await tinyPng(22);
  for (
    const [variables, code] of [
      [{ method: "nope" }, "UNKNOWN_METHOD"],
      [
        { method: "scorecam", options: { scorecam: { topChannels: -1 } } },
        "BAD_USER_INPUT",
      ],
      [{ method: "scorecam", options: { occlusion: {} } }, "BAD_USER_INPUT"],
    ] as const
  ) {
    const response = await app.fetch(
      graphqlRequest(PROGRESS_QUERY, { b, ...variables }, {
        accept: "text/event-stream",
      }),
    );
    const results = await sseResults(response);
    assert.equal(results.length, 1, JSON.stringify(results));
    assert.equal(results[0].errors?.[0].extensions?.code, code);
  }
  assert.equal(queueOf(app).started, 0);
});

Deno.test("explainProgress goes through the queue: a full lane is an OVERLOADED result, the other lane still runs", async () => {
  const gate = gateExplainer();
  const { app } = await tinyApp([gate.explainer, ...LONG_METHODS()], {
    limits: { concurrency: 1, maxQueued: 0 },
  });
  const b = await tinyPng(23);
  // The gate is cheap: it holds the light lane's only place.
  const running = app.fetch(graphqlRequest(EXPLAIN_QUERY("gate"), { b }));
  await until(() => queueOf(app).running === 1, "gate running");
  const refused = await app.fetch(
    graphqlRequest(PROGRESS_QUERY, { b, method: "gradcam" }, {
      accept: "text/event-stream",
    }),
  );
  const results = await sseResults(refused);
  assert.equal(results.at(-1)!.errors?.[0].extensions?.code, "OVERLOADED");
  // Score-CAM is expensive: the heavy lane is free, it runs to the end.
  const heavy = await sseResults(
    await app.fetch(
      graphqlRequest(PROGRESS_QUERY, { b, method: "scorecam" }, {
        accept: "text/event-stream",
      }),
    ),
  );
  assert.equal(heavy.at(-1)!.errors, undefined, JSON.stringify(heavy.at(-1)));
  gate.open();
  assert.equal((await running).status, 200);
});

Deno.test("explainProgress: a client that leaves mid-stream stops the work", async () => {
  const { app, runtime } = await tinyApp(LONG_METHODS());
  const b = await tinyPng(24);
  // One position per batch: 196 batches, a few ms each.
  const options = { occlusion: { batchSize: 1 } };
  await withServer(app, async (base) => {
    const client = new AbortController();
    const before = runtime.counters.batchItems;
    const response = await fetch(
      graphqlRequest(PROGRESS_QUERY, { b, method: "occlusion", options }, {
        base,
        accept: "text/event-stream",
      }),
      { signal: client.signal },
    );
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while (!/"fraction":0\.[1-9]/.test(text)) {
      const { done, value } = await reader.read();
      assert.ok(!done, "the stream ended before 10 %");
      text += value;
    }
    client.abort();
    await until(() => queueOf(app).running === 0, "the job stopped");
    const stoppedAt = runtime.counters.batchItems;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(runtime.counters.batchItems, stoppedAt, "no work after");
    // Fewer than all: it stopped early. How early depends on the machine's
    // load (the client reads progress behind the work), so no finer bound.
    const ran = stoppedAt - before;
    assert.ok(ran < 196, `${ran} of 196 positions ran`);
    assert.equal(queueOf(app).finished, queueOf(app).started);
  });
});
