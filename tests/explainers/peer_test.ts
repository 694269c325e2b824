/**
 * Lumen's maps against the PyTorch yardstick (../shared/peer, hooks as in
 * pytorch-grad-cam) on the same weights: tools/peer_maps.py wrote the fixture.
 */
import assert from "node:assert/strict";
import { analyzeImage } from "../../explainers/analysis.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { fixtureImage, sharedResNet50 } from "../_shared.ts";

const peer: Record<string, {
  c: number;
  p: number;
  gradcam: number[];
  activation: number[];
}> = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/peer_maps.json", import.meta.url),
  ),
);

for (const key of Object.keys(peer)) {
  const [image, layer] = key.split(":");
  Deno.test(`${image} at ${layer}: Grad-CAM and activation maps equal PyTorch's within 1e-4`, async () => {
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
