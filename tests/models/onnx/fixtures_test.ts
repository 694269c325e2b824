/**
 * The torchvision fixtures on ONNX Runtime against PyTorch's own numbers
 * (stored by tools/make_onnx_fixtures.py): logits, and autograd gradients
 * at the input, the default feature map and an inner module.
 */
import assert from "node:assert/strict";
import {
  fixtureEngine,
  fixtureInfo,
  fixtureInput,
  FIXTURES,
  maxRelative,
} from "./_onnx_fixtures.ts";

/** Layer defaults the engine must choose (the last feature map before pooling). */
const DEFAULT_ALIASES: Record<string, string> = {
  resnet18: "layer4",
  mobilenet_v2: "features",
  mobilenet_v3_small: "features",
  efficientnet_b0: "features",
  densenet: "",
  vgg11: "features.19",
};

for (const name of FIXTURES) {
  Deno.test({
    name:
      `${name}: logits and gradients equal PyTorch's, replace continues like a pass`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const info = await fixtureInfo(name);
      const engine = await fixtureEngine(name);
      try {
        const x = fixtureInput(info);
        const y = fixtureInput(info, 1);

        await t.step("logits within 1e-4 of PyTorch's", async () => {
          const state = await engine.lower([x], null);
          const { logits, classIndex } = await engine.upper(state);
          state.dispose();
          const d = maxRelative(logits[0], info.logits);
          assert.ok(d < 1e-4, `logits differ by ${d}`);
          assert.equal(classIndex[0], info.gradients.class);
        });

        await t.step(
          "the default layer is the last feature map, aliases as PyTorch names",
          () => {
            const layer = engine.layers.find((l) =>
              l.name === engine.defaultLayer
            )!;
            assert.ok(layer.spatial);
            const alias = DEFAULT_ALIASES[name];
            if (alias) {
              assert.ok(layer.aliases.includes(alias), `${layer.aliases}`);
            } else assert.equal(layer.kind, "Relu"); // DenseNet's F.relu after features
          },
        );

        for (const [key, sample] of Object.entries(info.gradients)) {
          if (key === "class") continue;
          await t.step(`gradient at ${key} equals autograd's`, async () => {
            const ref = sample as typeof info.gradients.input;
            const layer = key === "input"
              ? engine.input.name
              : engine.layers.find((l) => l.aliases.includes(key))?.name;
            assert.ok(layer, `no layer has the alias ${key}`);
            const state = await engine.lower([x], layer);
            const r = await engine.upper(state, { gradients: true });
            state.dispose();
            const g = r.gradients![0].data;
            assert.equal(g.length, ref.size);
            ref.indices.forEach((i, k) => {
              const d = Math.abs(g[i] - ref.values[k]) / ref.max;
              assert.ok(d < 1e-4, `${key}[${i}]: ${g[i]} vs ${ref.values[k]}`);
            });
          });
        }

        await t.step(
          "default-layer gradient matches finite differences",
          async () => {
            const state = await engine.lower([x], engine.defaultLayer);
            const r = await engine.upper(state, {
              gradients: true,
              activations: true,
            });
            const a = r.activations![0].data;
            const g = r.gradients![0].data;
            const c = r.classIndex[0];
            const order = [...g.keys()].sort((p, q) =>
              Math.abs(g[q]) - Math.abs(g[p])
            );
            const coords = [
              order[0],
              order[1],
              order[2],
              order[Math.floor(order.length / 2)],
            ];
            const h = 1e-2;
            const moved = coords.flatMap((i) =>
              [h, -h].map((s) => {
                const m = a.slice();
                m[i] += s;
                return m;
              })
            );
            const { logits } = await engine.upper(state, { replace: moved });
            state.dispose();
            coords.forEach((i, k) => {
              const fd = (logits[2 * k][c] - logits[2 * k + 1][c]) / (2 * h);
              assert.ok(
                Math.abs(fd - g[i]) <= 1e-2 * Math.abs(g[order[0]]),
                `${i}: finite difference ${fd}, gradient ${g[i]}`,
              );
            });
          },
        );

        await t.step(
          "replace with another image's activations gives that image's logits",
          async () => {
            const layer = engine.defaultLayer;
            const other = await engine.lower([y], layer);
            const theirs = await engine.upper(other, { activations: true });
            other.dispose();
            const state = await engine.lower([x], layer);
            const r = await engine.upper(state, {
              replace: [theirs.activations![0].data],
              activations: true,
            });
            state.dispose();
            // Nothing skips past the last feature map: the rest is a function of it.
            assert.ok(maxRelative(r.logits[0], theirs.logits[0]) < 1e-5);
            assert.deepEqual(
              r.activations![0].data,
              theirs.activations![0].data,
            );
          },
        );

        await t.step("a batch of two equals two single passes", async () => {
          const state = await engine.lower([x, y], engine.input.name);
          const both = await engine.upper(state, {
            gradients: true,
            classIndex: 1,
          });
          state.dispose();
          for (const [i, item] of [x, y].entries()) {
            const one = await engine.lower([item], engine.input.name);
            const r = await engine.upper(one, {
              gradients: true,
              classIndex: 1,
            });
            one.dispose();
            assert.ok(maxRelative(both.logits[i], r.logits[0]) < 1e-5);
            assert.ok(
              maxRelative(both.gradients![i].data, r.gradients![0].data) < 1e-5,
            );
          }
        });
      } finally {
        engine.dispose();
      }
    },
  });
}
