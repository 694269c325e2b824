/**
 * One suite that every registered explainer runs: built-ins and the example
 * plugin alike.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { GraphQLError } from "graphql";
import { analyzeImage } from "../../explainers/analysis.ts";
import centerBias from "../../explainers/examples/center_bias.ts";
import {
  builtinExplainers,
  createRegistry,
} from "../../explainers/registry.ts";
import { tinyRuntime } from "../_shared.ts";

const registry = createRegistry([...builtinExplainers(), centerBias]);
const runtime = await tinyRuntime("wasm");
const input = new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * 0.13));

for (const explainer of registry.list()) {
  const name = explainer.name;
  const explain = async (layer?: string, classIndex?: number) => {
    const analysis = await analyzeImage(runtime, registry, input, {
      methods: [name],
      layer,
      classIndex,
    });
    return (await analysis.explain(name)).heatmap;
  };

  Deno.test(`${name}: map has the layer's size and values in [0, 1]`, async () => {
    for (
      const [layer, size] of [["b_out", 16], ["b_relu2", 16], [
        "stem_relu",
        16,
      ]] as const
    ) {
      const map = await explain(layer);
      assert.equal(map.width, size);
      assert.equal(map.height, size);
      assert.equal(map.values.length, size * size);
      for (const v of map.values) assert.ok(v >= 0 && v <= 1, `${v}`);
      assert.ok(
        map.values.some((v) => v === 1) || map.values.every((v) => v === 0),
      );
      assert.ok(map.rawMax >= map.rawMin);
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

  Deno.test(`${name}: bad layer and class give clear errors`, async () => {
    const code = (e: unknown) => (e as GraphQLError).extensions?.code;
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
  assert.throws(() => registry.get("gradcam++"), (e: GraphQLError) => {
    assert.equal(e.extensions.code, "UNKNOWN_METHOD");
    assert.equal(
      e.message,
      'Unknown method "gradcam++": valid methods are "activation", "gradcam", "centerbias"',
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
  const analysis = await analyzeImage(runtime, registry, input, {
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
  const analysis = await analyzeImage(runtime, registry, fresh, {
    methods: ["activation", "gradcam", "centerbias"],
  });
  for (const m of ["activation", "gradcam", "centerbias"]) {
    await analysis.explain(m);
  }
  await analysis.explain("gradcam");
  assert.equal(runtime.counters.forward - start.forward, 1);
  assert.equal(runtime.counters.backward - start.backward, 1);
});

Deno.test("gradient-free methods run no backward pass", async () => {
  const start = { ...runtime.counters };
  const fresh = input.map((v) => v * 0.25);
  const analysis = await analyzeImage(runtime, registry, fresh, {
    methods: ["activation"],
  });
  await analysis.explain("activation");
  assert.equal(runtime.counters.forward - start.forward, 1);
  assert.equal(runtime.counters.backward - start.backward, 0);
});
