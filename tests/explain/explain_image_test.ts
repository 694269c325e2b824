import assert from "node:assert/strict";
import { checkExplain, explainImage } from "../../explain/mod.ts";
import { createRegistry } from "../../explainers/registry.ts";
import type { Explainer } from "../../explainers/types.ts";
import {
  createRenderPool,
  type Renderer,
  renderHere,
} from "../../lib/render_pool.ts";
import { tiny } from "../explainers/_tiny.ts";
import { fixtureImage, sharedResNet50Onnx } from "../_shared.ts";
import { variant } from "../../tools/bench/images.ts";

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

// chelsea.png with its corner painted (the bench's variant 103): here
// XGrad-CAM's map at layer4 is a few ulps from Grad-CAM's, not equal.
const paintedChelsea = variant(await fixtureImage("chelsea.png"), 103);

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

/** A renderer that renders here and keeps each map it was given. */
function countingRenderer(): Renderer & { maps: number[][] } {
  const maps: number[][] = [];
  return {
    maps,
    render: (job, options) => {
      maps.push([...job.map.values]);
      return renderHere().render(job, options);
    },
    idle: () => Promise.resolve(),
    close() {},
  };
}

Deno.test("explainImage renders maps that render alike once: they share the PNG bytes, each method still has its rendering event", async () => {
  const runtime = await tiny();
  const ulp = Math.fround(1 + 2 ** -23); // the next float32 after 1
  // The top-left pixel of a 2×2 map upsampled to 32×32 is the map's first
  // value: these two straddle the edge between levels 84 and 85 by 1e-4.
  const edge = (side: number) => [(84.5 + side * 1e-4) / 255, 0.2, 0.3, 1];
  const registry = createRegistry([
    flat("a", [0, 1, 2, 3]),
    flat("b", [3, 2, 1, 0]),
    flat("twin", [0, 1, 2, 3]),
    flat("near", [0, 1, 2, 3 * ulp]),
    flat("below", edge(-1)),
    flat("above", edge(1)),
  ]);
  const renderer = countingRenderer();
  const events: string[] = [];
  const methods = ["a", "b", "twin", "near", "below", "above"];
  const outcome = await explainImage(
    { runtime, registry, maxPixels: 1 << 20, renderer },
    {
      ...checkExplain({ model: runtime, registry }, {
        methods,
        outputs: { maps: true, overlay: true, heatmap: true },
      }, { maxMethods: 8 }),
      image,
    },
    { onRendering: (r) => events.push(r.method) },
  );
  assert.equal(
    renderer.maps.length,
    4,
    "a, twin (equal) and near (an ulp off, the same levels) are one render; below and above differ by a level at one pixel",
  );
  assert.deepEqual(events.sort(), [...methods].sort());
  const [a, b, twin, near, below, above] = outcome.methods.map((m) =>
    m.rendering!
  );
  assert.equal(twin.overlay, a.overlay, "the same bytes, not a copy");
  assert.equal(twin.heatmap, a.heatmap);
  assert.equal(twin.method, "twin");
  assert.equal(near.overlay, a.overlay);
  assert.equal(near.heatmap, a.heatmap);
  assert.notDeepEqual(
    outcome.methods[3].map?.heatmap.values,
    outcome.methods[0].map?.heatmap.values,
    "near keeps its own map",
  );
  assert.notDeepEqual(b.overlay, a.overlay);
  assert.notDeepEqual(above.overlay, below.overlay);
  assert.notDeepEqual(above.heatmap, below.heatmap);
});

Deno.test("explainImage on ResNet-50 at its last stage: HiResCAM's map is Grad-CAM's and XGrad-CAM's renders alike, so one render serves the three", async () => {
  const runtime = await sharedResNet50Onnx();
  const registry = createRegistry();
  const renderer = countingRenderer();
  const methods = ["gradcam", "hirescam", "xgradcam", "layercam"];
  const explain = (layer: string) =>
    explainImage(
      { runtime, registry, maxPixels: 1 << 20, renderer },
      {
        ...checkExplain({ model: runtime, registry }, {
          methods,
          layer,
          outputs: { maps: true, overlay: true, heatmap: false },
        }, { maxMethods: 8 }),
        image: paintedChelsea,
      },
    );
  const last = await explain("layer4");
  const maps = last.methods.map((m) => m.map!.heatmap.values);
  assert.deepEqual(maps[1], maps[0], "HiResCAM's map is Grad-CAM's");
  assert.notDeepEqual(maps[2], maps[0], "XGrad-CAM's is not, quite");
  assert.equal(renderer.maps.length, 2, "Grad-CAM's and LayerCAM's");
  const [gradcam, hires, xgrad, layercam] = last.methods.map((m) =>
    m.rendering!.overlay
  );
  assert.equal(hires, gradcam);
  assert.equal(xgrad, gradcam);
  assert.notDeepEqual(layercam, gradcam);
  // Inside the network the gradient varies over a channel: four renders.
  await explain("layer3");
  assert.equal(renderer.maps.length, 2 + 4);
});

Deno.test("explainImage with a render pool, the last map equal to an earlier one: this thread still takes the queued maps", async () => {
  const runtime = await tiny();
  const big = {
    width: 1000,
    height: 1000,
    data: new Uint8Array(1000 * 1000 * 3),
  };
  const registry = createRegistry([
    ...["a", "b", "c", "d"].map((m, i) => flat(m, [i, 1, 2, 3 + i])),
    flat("last", [0, 1, 2, 3]),
  ]);
  const renderer = createRenderPool();
  try {
    const outcome = await explainImage(
      { runtime, registry, maxPixels: 1 << 20, renderer },
      {
        ...checkExplain({ model: runtime, registry }, {
          methods: ["a", "b", "c", "d", "last"],
          outputs: { maps: false, overlay: true, heatmap: false },
        }, { maxMethods: 8 }),
        image: big,
      },
    );
    assert.equal(
      outcome.methods[4].rendering?.overlay,
      outcome.methods[0].rendering?.overlay,
    );
    const { thread, here } = renderer.rendered;
    assert.equal(thread + here, 4, "four distinct maps, each rendered once");
    assert.ok(
      here >= 1,
      `this thread took queued maps (thread ${thread}, here ${here})`,
    );
  } finally {
    renderer.close();
  }
});
