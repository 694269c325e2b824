/**
 * The explanation job's runner on a real service (the tiny network, in
 * this process): progress over all methods, a busy service waited out,
 * results as plain JSON equal to the service's own outcome.
 */
import assert from "node:assert/strict";
import { checkExplain } from "../../explain/mod.ts";
import { activationExplainer } from "../../explainers/activation.ts";
import { gradCamExplainer } from "../../explainers/grad_cam.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { scoreCamExplainer } from "../../explainers/score_cam.ts";
import type { Explainer } from "../../explainers/types.ts";
import {
  type ExplanationPayload,
  type ExplanationResult,
  explanationResult,
  explanationRunner,
} from "../../jobs/explanation/mod.ts";
import { clientError } from "../../lib/errors.ts";
import { modelView } from "../../workers/mod.ts";
import { serviceOver } from "../_service.ts";
import {
  gateExplainer,
  sharedTiny,
  tinyPng,
  until,
} from "../schema/_tiny_app.ts";

async function setup(
  extra: Explainer[] = [scoreCamExplainer() as Explainer],
  maxQueued?: number,
) {
  const runtime = await sharedTiny();
  const registry = createRegistry([
    activationExplainer(),
    gradCamExplainer(),
    ...extra,
  ]);
  const service = await serviceOver(runtime, registry, {
    limits: maxQueued === undefined ? {} : { maxQueued },
  });
  return { registry, service };
}

async function payload(
  registry: ReturnType<typeof createRegistry>,
  service: Awaited<ReturnType<typeof serviceOver>>,
  methods: string[],
  options: Record<string, unknown> = {},
): Promise<ExplanationPayload> {
  const request = checkExplain({
    model: modelView(await service.describe()),
    registry,
  }, {
    methods,
    layer: "b_out",
    options,
  }, { maxMethods: 16 });
  return { request, image: await tinyPng(70) };
}

Deno.test("explanationRunner: one rising fraction over every method, ending at 1; the result is the outcome as JSON", async () => {
  const { registry, service } = await setup();
  const job = await payload(registry, service, ["gradcam", "scorecam"], {
    scorecam: { topChannels: 8, batchSize: 1 },
  });
  const reports: number[] = [];
  const lines: string[] = [];
  const result = await explanationRunner(service, {
    registry,
    log: (_level, msg) => lines.push(msg),
  })(job, {
    id: "job-1",
    signal: new AbortController().signal,
    onProgress: (f) => reports.push(f),
  });
  for (let i = 1; i < reports.length; i++) {
    assert.ok(reports[i] >= reports[i - 1], `${reports}`);
  }
  assert.equal(reports.at(-1), 1);
  // The shared pass, gradcam's end and scorecam's 8 batches are steps.
  assert.ok(reports.filter((f) => f > 0 && f < 1).length >= 8, `${reports}`);
  assert.deepEqual(lines, ["job started", "job ended"]);

  const bytes = Uint8Array.from(atob(job.image), (c) => c.charCodeAt(0));
  const outcome = await service.explain({ ...job.request, image: bytes });
  assert.deepEqual(result, JSON.parse(JSON.stringify(result)), "plain JSON");
  // Equal but for the times taken.
  const untimed = (r: ExplanationResult) => ({
    ...r,
    analysis: { ...r.analysis, decodeMs: 0, forwardMs: 0 },
    methods: r.methods.map((m) => ({ ...m, explainMs: 0, renderMs: 0 })),
  });
  assert.deepEqual(untimed(result), untimed(explanationResult(outcome)));
  const { map } = result.methods[1];
  assert.equal(map!.values.length, map!.width * map!.height);
  assert.match(result.methods[0].overlay!, /^data:image\/png;base64,/);
});

Deno.test("explanationRunner: a full service queue is waited out, not a failure", async () => {
  const gate = gateExplainer();
  const { registry, service } = await setup([gate.explainer], 0);
  // The gate holds the light lane's only slot; nothing may wait.
  const held = service.explain({
    ...(await payload(registry, service, ["gate"])).request,
    image: Uint8Array.from(atob(await tinyPng(71)), (c) => c.charCodeAt(0)),
  });
  await until(() => gate.calls === 1, "gate running");
  const job = await payload(registry, service, ["gradcam"]);
  const run = explanationRunner(service, { registry, busyRetryMs: 20 })(job, {
    id: "job-2",
    signal: new AbortController().signal,
    onProgress: () => {},
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  gate.open();
  await held;
  const result = await run;
  assert.equal(result.methods[0].method, "gradcam");
  assert.equal(result.methods[0].error, null);
});

Deno.test("explanationResult: a failed method keeps its code; all failed is the first error", () => {
  const analysis = {
    model: "m",
    layer: "l",
    classIndex: 0,
    label: "a",
    probability: 1,
    predictions: [],
    image: { width: 1, height: 1 },
    decodeMs: 0,
    forwardMs: 0,
  };
  const error = clientError("BAD_USER_INPUT", "Too few channels");
  const partial = explanationResult({
    analysis,
    methods: [
      {
        method: "a",
        map: {
          method: "a",
          heatmap: {
            width: 1,
            height: 1,
            values: new Float32Array([0.5]),
            rawMin: 0,
            rawMax: 2,
          },
          explainMs: 3,
        },
      },
      { method: "b", error },
      { method: "c", error: new TypeError("secret") },
    ],
  });
  assert.deepEqual(partial.methods[0].map, {
    width: 1,
    height: 1,
    values: [0.5],
    rawMin: 0,
    rawMax: 2,
  });
  assert.deepEqual(partial.methods[1].error, {
    code: "BAD_USER_INPUT",
    message: "Too few channels",
  });
  assert.equal(partial.methods[2].error!.code, "INTERNAL");
  assert.doesNotMatch(partial.methods[2].error!.message, /secret/);
  assert.throws(
    () =>
      explanationResult({
        analysis,
        methods: [{ method: "b", error }],
      }),
    (e) => e === error,
  );
});
