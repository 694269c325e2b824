/**
 * One suite that every registered explainer runs: built-ins and the example
 * plugin alike.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { ClientError } from "../../lib/errors.ts";
import { analyzeImage } from "../../explainers/analysis.ts";
import centerBias from "../../explainers/examples/center_bias.ts";
import {
  builtinExplainers,
  createRegistry,
  GRADIENT_CAMS,
} from "../../explainers/registry.ts";
import { sanityCheck } from "../../explainers/evaluation/sanity.ts";
import { randomizedRuntime } from "../../models/mod.ts";
import { inMemoryHandler, tinyResNet, tinyRuntime } from "../_shared.ts";

const registry = createRegistry([...builtinExplainers(), centerBias]);
const runtime = await tinyRuntime("wasm");
const input = new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * 0.13));
// The same tiny network with its block and classifier replaced by noise.
const tinyHandler = await inMemoryHandler(tinyResNet());
const loadTiny = () => tinyHandler.load!();
const randomized = await randomizedRuntime(loadTiny, {
  preprocessing: "tf",
  backend: "wasm",
});

for (const explainer of registry.list()) {
  const name = explainer.name;
  const explain = async (layer?: string, classIndex?: number) => {
    const analysis = await analyzeImage({ runtime, registry }, input, {
      methods: [name],
      layer,
      classIndex,
    });
    return (await analysis.explain(name)).heatmap;
  };

  Deno.test(`${name}: map has the declared size and values in [0, 1]`, async () => {
    const maps = [];
    for (
      const [layer, size] of [["b_out", 16], ["b_relu2", 16], [
        "stem_relu",
        16,
      ]] as const
    ) {
      const map = await explain(layer);
      if ((explainer.resolution ?? "layer") === "layer") {
        assert.equal(map.width, size);
        assert.equal(map.height, size);
      } else {
        // Over the 32×32 input: at its resolution or a coarser grid.
        assert.ok(map.width >= 1 && map.width <= 32, `${map.width}`);
        assert.ok(map.height >= 1 && map.height <= 32, `${map.height}`);
      }
      assert.equal(map.values.length, map.width * map.height);
      for (const v of map.values) assert.ok(v >= 0 && v <= 1, `${v}`);
      assert.ok(
        map.values.some((v) => v === 1) || map.values.every((v) => v === 0),
      );
      assert.ok(map.rawMax >= map.rawMin);
      maps.push(map);
    }
    if (explainer.resolution === "input") {
      // Input-resolution maps do not depend on the layer.
      assert.deepEqual(maps[1], maps[0]);
      assert.deepEqual(maps[2], maps[0]);
    }
  });

  Deno.test(`${name}: is deterministic`, async () => {
    const a = await explain("b_out", 2);
    const b = await explain("b_out", 2);
    assert.deepEqual(a.values, b.values);
  });

  Deno.test(`${name}: leaks no tensors across 20 calls`, async () => {
    await explain("b_relu2");
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await explain("b_relu2", i % 10);
    assert.equal(tf.memory().numTensors, before);
  });

  Deno.test(`${name}: the map changes when the model is randomized (sanity check)`, async () => {
    const { spearman } = await sanityCheck(
      { trained: runtime, randomized, registry },
      { image: input, method: name, layer: "b_out", classIndex: 2 },
    );
    if (name === "centerbias") {
      // A model-free baseline fails the check: that is what it is for.
      assert.equal(spearman, 1);
    } else {
      assert.ok(spearman < 0.9, `Spearman ρ = ${spearman}`);
    }
  });

  Deno.test(`${name}: bad layer and class give clear errors`, async () => {
    const code = (e: unknown) => (e as ClientError).code;
    await assert.rejects(
      () => explain("nope"),
      (e) => code(e) === "UNKNOWN_LAYER",
    );
    await assert.rejects(
      () => explain("gap"),
      (e) => code(e) === "UNSUPPORTED_LAYER",
    );
    await assert.rejects(() => explain(undefined, 10), (e) => {
      assert.match(
        (e as Error).message,
        /classIndex must be an integer from 0 to 9, got 10/,
      );
      return code(e) === "BAD_USER_INPUT";
    });
    await assert.rejects(
      () => explain(undefined, -1),
      (e) => code(e) === "BAD_USER_INPUT",
    );
  });
}

Deno.test("an unknown method lists the valid ones", () => {
  assert.throws(() => registry.get("guidedgradcam"), (e: ClientError) => {
    assert.equal(e.code, "UNKNOWN_METHOD");
    assert.equal(
      e.message,
      'Unknown method "guidedgradcam": valid methods are "activation", "gradcam", "gradcam++", ' +
        '"hirescam", "xgradcam", "layercam", "eigencam", "eigengradcam", "scorecam", ' +
        '"ablationcam", "saliency", "smoothgrad", "integratedgradients", "occlusion", "centerbias"',
    );
    return true;
  });
});

Deno.test("a duplicate explainer name fails at start-up", () => {
  assert.throws(
    () => createRegistry([...builtinExplainers(), ...builtinExplainers()]),
    /Duplicate explainer name "activation"/,
  );
});

Deno.test("the example plugin validates its options", async () => {
  assert.throws(
    () => centerBias.parseParams({ sigma: -1 }),
    /sigma must be a number/,
  );
  const analysis = await analyzeImage({ runtime, registry }, input, {
    methods: ["centerbias"],
    params: { centerbias: { sigma: 0.1 } },
  });
  const map = (await analysis.explain("centerbias")).heatmap;
  // The 16×16 grid's four central cells share the peak.
  assert.equal(map.values[7 * 16 + 7], 1);
  assert.ok(map.values[0] < 0.01);
});

Deno.test("methods without options refuse options", () => {
  assert.throws(
    () => registry.get("gradcam").parseParams({ foo: 1 }),
    /Method "gradcam" takes no options/,
  );
});

Deno.test("several methods on one image share one forward and one backward pass", async () => {
  const start = { ...runtime.counters };
  // A new image: the pass cache would serve a known one without a pass.
  const fresh = input.map((v) => v * 0.5);
  const analysis = await analyzeImage({ runtime, registry }, fresh, {
    methods: ["activation", "gradcam", "centerbias"],
  });
  for (const m of ["activation", "gradcam", "centerbias"]) {
    await analysis.explain(m);
  }
  await analysis.explain("gradcam");
  assert.equal(runtime.counters.forward - start.forward, 1);
  assert.equal(runtime.counters.backward - start.backward, 1);
});

Deno.test("the six gradient-CAM variants share one forward and one backward pass, and no extra pass", async () => {
  const methods = [...GRADIENT_CAMS];
  const start = { ...runtime.counters };
  // An input not seen before, so that the runtime's pass cache cannot help.
  const fresh = input.map((v) => 0.9 * v);
  const analysis = await analyzeImage({ runtime, registry }, fresh, {
    methods,
  });
  for (const m of methods) await analysis.explain(m);
  assert.equal(runtime.counters.forward - start.forward, 1);
  assert.equal(runtime.counters.backward - start.backward, 1);
  assert.equal(runtime.counters.batchItems, start.batchItems);
});

Deno.test("gradient-free methods run no backward pass", async () => {
  const start = { ...runtime.counters };
  const fresh = input.map((v) => v * 0.25);
  const analysis = await analyzeImage({ runtime, registry }, fresh, {
    methods: ["activation"],
  });
  await analysis.explain("activation");
  assert.equal(runtime.counters.forward - start.forward, 1);
  assert.equal(runtime.counters.backward - start.backward, 0);
});
