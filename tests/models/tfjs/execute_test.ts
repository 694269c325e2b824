import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { tinyRuntime } from "../../_shared.ts";

/**
 * The kernels TF.js ran for one gradient pass at `layer`, split at the
 * loss (the scalar sum of the class logit): after it, the backward pass.
 */
async function backwardKernels(layer: string) {
  const runtime = await tinyRuntime("wasm", { cacheEntries: 0 });
  const input = new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * 0.3));
  try {
    const info = await tf.profile(async () => {
      await runtime.run(input, { layer, gradients: true, classIndex: 1 });
    });
    const loss = info.kernels.findLastIndex((k) =>
      k.name === "Sum" && k.outputShapes[0]?.length === 0
    );
    assert.ok(loss > 0, "the loss is in the profile");
    return info.kernels.slice(loss + 1);
  } finally {
    runtime.dispose();
  }
}

/** Filter shapes of the convolutions among `kernels`. */
const convFilters = (kernels: { name: string; inputShapes: number[][] }[]) =>
  kernels.filter((k) => k.name.includes("Conv")).map((k) => k.inputShapes[1]);

// The tiny network: stem_conv 3×3×3→8, then a bottleneck block b_conv1
// 1×1×8→4, b_conv2 3×3×4→4 (→ b_relu2), b_conv3 1×1×4→16, shortcut b_conv0
// 1×1×8→16. An input gradient through a conv with filter [kh, kw, in, out]
// is a conv with filter [kh, kw, out, in].

Deno.test("the gradient at a layer never runs below it: only the convolutions above it are differentiated", async () => {
  const backward = await backwardKernels("b_relu2");
  // Only b_conv3 is above b_relu2: its input gradient, and nothing else.
  assert.deepEqual(convFilters(backward), [[1, 1, 16, 4]]);
  // No backward kernel touches a tensor of the stem or of the image
  // (8 or 3 channels), which a gradient below the block would.
  for (const k of backward) {
    for (const shape of [...k.inputShapes, ...k.outputShapes]) {
      if (shape?.length !== 4) continue;
      assert.ok(
        shape[3] !== 8 && shape[3] !== 3 && shape[1] !== 32,
        `${k.name} ${JSON.stringify(shape)}`,
      );
    }
  }
  // The gradient ends at the layer: 16×16×4, b_relu2's shape.
  assert.deepEqual(backward.at(-1)!.outputShapes[0], [1, 16, 16, 4]);
});

Deno.test("one layer lower, the gradient also goes through the convolution in between", async () => {
  // The control for the test above: the profile does show a backward
  // convolution whenever one is above the layer.
  const backward = await backwardKernels("b_relu1");
  assert.deepEqual(
    convFilters(backward).map((s) => JSON.stringify(s)).sort(),
    ["[1,1,16,4]", "[3,3,4,4]"],
  );
});
