/**
 * Lumen's maps against the PyTorch yardstick (../shared/peer, hooks as in
 * pytorch-grad-cam) on the same weights, in float64: tools/peer_maps.py wrote
 * the fixture. Inner layers (inside stage 4, the end of stage 3) are there
 * only for images where float32 rounding cannot switch a ReLU above them
 * (see the tool): coffee.png, not chelsea.png.
 */
import assert from "node:assert/strict";
import { analyzeImage } from "../../explainers/analysis.ts";
import { createRegistry } from "../../explainers/registry.ts";
import type { FeatureMap } from "../../models/mod.ts";
import { fixtureImage, sharedResNet50 } from "../_shared.ts";

const peer: Record<string, {
  c: number;
  p: number;
  gradcam: number[];
  activation: number[];
  /** d(logit)/d(activation) averaged over positions: Grad-CAM's weights. */
  gradMeans: number[];
}> = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/peer_maps.json", import.meta.url),
  ),
);

function channelMeans(map: FeatureMap): Float64Array {
  const means = new Float64Array(map.channels);
  map.data.forEach((v, i) => means[i % map.channels] += v);
  return means.map((s) => s / (map.height * map.width));
}

for (const key of Object.keys(peer)) {
  const [image, layer] = key.split(":");
  Deno.test(`${image} at ${layer}: Grad-CAM and activation maps and Grad-CAM's weights equal PyTorch's within 1e-4`, async () => {
    const runtime = await sharedResNet50();
    const analysis = await analyzeImage(
      runtime,
      createRegistry(),
      await fixtureImage(image),
      {
        methods: ["gradcam", "activation"],
        layer,
      },
    );
    const expected = peer[key];
    assert.equal(analysis.classIndex, expected.c);
    assert.ok(
      Math.abs(analysis.pass.probabilities[expected.c] - expected.p) < 1e-4,
    );
    const means = channelMeans(analysis.pass.gradients!);
    const scale = Math.max(...expected.gradMeans.map(Math.abs));
    assert.equal(means.length, expected.gradMeans.length);
    means.forEach((m, i) =>
      assert.ok(
        Math.abs(m - expected.gradMeans[i]) < 1e-4 * scale,
        `gradient mean of channel ${i}: ${m} vs ${expected.gradMeans[i]}`,
      )
    );
    for (const method of ["gradcam", "activation"] as const) {
      const { heatmap } = await analysis.explain(method);
      assert.equal(heatmap.values.length, expected[method].length);
      heatmap.values.forEach((v, i) =>
        assert.ok(
          Math.abs(v - expected[method][i]) < 1e-4,
          `${method}[${i}]: ${v} vs ${expected[method][i]}`,
        )
      );
    }
  });
}
