import assert from "node:assert/strict";
import { checkExplain, explainImage } from "../../explain/mod.ts";
import { createRegistry } from "../../explainers/registry.ts";
import type { Explainer } from "../../explainers/types.ts";
import { createRenderPool } from "../../lib/render_pool.ts";
import { tiny } from "../explainers/_tiny.ts";

let calls = 0;
const counting: Explainer = {
  name: "counting",
  description: "A flat map; counts its calls",
  needsGradients: false,
  parseParams: () => ({}),
  explain() {
    calls++;
    return { width: 2, height: 2, values: new Float32Array([0, 1, 2, 3]) };
  },
};

const image = {
  width: 32,
  height: 32,
  data: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 37) % 256),
};

Deno.test("explainImage computes no map when no output needs one", async () => {
  const runtime = await tiny();
  const registry = createRegistry([counting]);
  const explain = (outputs: { maps: boolean; overlay: boolean }) =>
    explainImage(
      { runtime, registry, maxPixels: 1 << 20 },
      {
        ...checkExplain({ model: runtime, registry }, {
          methods: ["counting"],
          outputs: { ...outputs, heatmap: false },
        }, { maxMethods: 1 }),
        image,
      },
    );
  calls = 0;
  const bare = await explain({ maps: false, overlay: false });
  assert.equal(calls, 0);
  assert.deepEqual(bare.methods, [{ method: "counting" }]);
  assert.ok(bare.analysis.label.length > 0, "the shared pass still ran");
  const mapped = await explain({ maps: true, overlay: false });
  assert.equal(calls, 1);
  assert.equal(mapped.methods[0].map?.heatmap.width, 2);
  assert.equal(mapped.methods[0].rendering, undefined);
  await explain({ maps: false, overlay: true });
  assert.equal(calls, 2, "an overlay needs the map");
});

function flat(name: string, values: number[]): Explainer {
  return {
    name,
    description: "A fixed 2×2 map",
    needsGradients: false,
    parseParams: () => ({}),
    explain: () => ({ width: 2, height: 2, values: new Float32Array(values) }),
  };
}

Deno.test("explainImage with a render pool: the same PNGs, in request order, one rendering event each", async () => {
  const runtime = await tiny();
  const methods = ["a", "b", "c", "d", "e"];
  const registry = createRegistry(
    methods.map((m, i) => flat(m, [i, 1, 2 * i, 3])),
  );
  const request = {
    ...checkExplain({ model: runtime, registry }, {
      methods,
      outputs: { maps: true, overlay: true, heatmap: true },
    }, { maxMethods: 8 }),
    image,
  };
  const alone = await explainImage(
    { runtime, registry, maxPixels: 1 << 20 },
    request,
  );
  const renderer = createRenderPool();
  try {
    const events: string[] = [];
    const pooled = await explainImage(
      { runtime, registry, maxPixels: 1 << 20, renderer },
      request,
      { onRendering: (r) => events.push(r.method) },
    );
    assert.deepEqual(pooled.methods.map((m) => m.method), methods);
    assert.deepEqual([...events].sort(), methods);
    pooled.methods.forEach((m, i) => {
      const want = alone.methods[i].rendering!;
      assert.deepEqual(m.rendering?.overlay, want.overlay, m.method);
      assert.deepEqual(m.rendering?.heatmap, want.heatmap, m.method);
      assert.deepEqual(m.map?.heatmap, alone.methods[i].map?.heatmap);
    });
  } finally {
    renderer.close();
  }
});
