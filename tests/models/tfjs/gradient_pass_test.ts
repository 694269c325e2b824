/**
 * A gradient pass differentiates the very forward a plain pass computes.
 * TF.js' `tf.fused.conv2d` runs conv + bias + ReLU as three ops under
 * `tf.grad`; on WASM (XNNPACK starts its sums at the bias) they round
 * differently from the fused kernel, so the logits (and the ReLU masks the
 * gradient goes through) of a gradient pass used to differ from the plain
 * pass whose activations Grad-CAM multiplies them with. (The tiny network's
 * sums are too short to round differently: ResNet-50 it is.)
 */
import assert from "node:assert/strict";
import type { ModelRuntime } from "../../../models/mod.ts";
import { fixtureImage, sharedResNet50 } from "../../_shared.ts";

/** Where the gradient pass's logits differ from the plain pass's. */
async function logitsDiffer(
  runtime: ModelRuntime,
  input: Float32Array,
  layer: string,
): Promise<string[]> {
  const plain = await runtime.run(input, { layer });
  const withGradients = await runtime.run(input, { layer, gradients: true });
  assert.ok(withGradients.gradients, "the gradient pass has gradients");
  const differ: string[] = [];
  plain.logits.forEach((v, i) => {
    if (withGradients.logits[i] !== v) {
      differ.push(`${i}: ${v} vs ${withGradients.logits[i]}`);
    }
  });
  return differ;
}

Deno.test("ResNet-50 on WASM, chelsea.png: gradient passes at inner layers compute the plain pass's logits bit for bit", async () => {
  const runtime = await sharedResNet50();
  const input = runtime.prepare(await fixtureImage("chelsea.png"));
  for (const layer of ["layer3", "res4b_branch2a", "layer2"]) {
    const differ = await logitsDiffer(runtime, input, layer);
    assert.equal(differ.length, 0, `${layer}: ${differ.slice(0, 3)}`);
  }
});
