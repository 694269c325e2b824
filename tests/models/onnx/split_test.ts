import assert from "node:assert/strict";
import { readOnnxClassifier } from "../../../models/onnx/load.ts";
import { loadOrt } from "../../../models/onnx/session.ts";
import {
  CLASS_IN,
  lowerModel,
  planSplit,
  upperModel,
} from "../../../models/onnx/split.ts";
import type { ModelProto } from "../../../models/onnx/proto.ts";
import { fixturePath } from "./_onnx_fixtures.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

/** Initializers (weights) that some node of `model` reads. */
function weightsRead(model: ModelProto): Set<string> {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  return new Set(
    model.graph.nodes.flatMap((n) => n.inputs).filter((i) =>
      initializers.has(i)
    ),
  );
}

/** Convolution weights (4-D initializers) that some node of `model` reads. */
function convWeightsRead(model: ModelProto): Set<string> {
  const conv = new Set(
    model.graph.initializers.filter((t) => t.dims.length === 4).map((t) =>
      t.name
    ),
  );
  return new Set([...weightsRead(model)].filter((w) => conv.has(w)));
}

for (const layer of ["layer2", "layer3"]) {
  test(`the gradient model at resnet18's ${layer} reads no weight from below it`, async () => {
    const source = await readOnnxClassifier(
      await loadOrt(),
      fixturePath("resnet18.onnx"),
      { threads: 1 },
    );
    const name = source.layers.find((l) => l.aliases.includes(layer))!.name;
    const { graph, tensor } = source.graphFor(name);
    const plan = planSplit(graph, tensor);
    const lower = lowerModel(graph, plan);
    const upper = upperModel(graph, plan, { gradients: true });
    // Its inputs are the boundary, the skips and the class: never the image.
    const inputs = upper.graph.inputs.map((v) => v.name);
    assert.ok(!inputs.includes(graph.input), inputs.join(", "));
    assert.deepEqual(
      inputs.toSorted(),
      [plan.exchanged, ...plan.skips, CLASS_IN].toSorted(),
    );
    // The lower half's convolutions are neither run nor differentiated
    // above the boundary; the upper half has convolutions of its own.
    const below = convWeightsRead(lower);
    const above = convWeightsRead(upper);
    assert.ok(below.size > 0 && above.size > 0);
    const shared = [...above].filter((w) => below.has(w));
    assert.deepEqual(shared, [], "lower weights in the gradient model");
    // No node of the lower half is in the gradient model (the boundary
    // itself comes in channels-last and is transposed back under its name).
    const lowerOutputs = new Set(plan.lower.flatMap((n) => n.outputs));
    lowerOutputs.delete(plan.boundary);
    const recomputed = upper.graph.nodes.flatMap((n) => n.outputs).filter((
      o,
    ) => lowerOutputs.has(o));
    assert.deepEqual(recomputed, []);
  });
}
