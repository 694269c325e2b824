/**
 * One set of checks every {@linkcode Engine} must pass, whatever runs it
 * (TF.js on any backend, ONNX Runtime): register it from a test file with a
 * factory for the engine under test and a few inputs.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Engine } from "../../models/engine.ts";

/** Options of {@linkcode engineConformance}. */
export interface ConformanceOptions {
  /** Makes the engine under test (once; it is disposed at the end). */
  make: () => Promise<Engine>;
  /** Two or more preprocessed inputs (HWC). */
  inputs: () => Promise<Float32Array[]> | Float32Array[];
  /** A spatial layer inside a residual block (skips cross it); @default the default layer */
  innerLayer?: string;
  /** Largest difference allowed between passes, relative to the largest value; @default 1e-5 */
  tolerance?: number;
  /** Check input gradients against central differences (small networks); @default false */
  finiteDifferences?: boolean;
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return max === 0 ? diff : diff / max;
}

function close(
  a: Float32Array,
  b: Float32Array,
  tolerance: number,
  what: string,
) {
  const d = maxRelative(a, b);
  assert.ok(d <= tolerance, `${what}: relative difference ${d} > ${tolerance}`);
}

function argMax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/**
 * Registers one `Deno.test` named `name` whose steps check the engine
 * contract: the layer list, whole and split passes agreeing, batches equal
 * to single items, activations and gradients of the right shapes, a given
 * class, continuing from replaced activations, input gradients, memory
 * estimates and rejection of unknown layers.
 *
 * @example
 * ```ts
 * engineConformance("onnxruntime on the tiny ResNet", { make, inputs });
 * ```
 */
export function engineConformance(name: string, options: ConformanceOptions) {
  const tolerance = options.tolerance ?? 1e-5;
  Deno.test({
    name,
    // ONNX Runtime runs use timers of its own binding.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const engine = await options.make();
      try {
        const inputs = await options.inputs();
        assert.ok(inputs.length >= 2, "needs two inputs");
        const [a, b] = inputs;
        const layer = engine.defaultLayer;
        const inner = options.innerLayer ?? layer;
        const byName = new Map(engine.layers.map((l) => [l.name, l]));

        await t.step(
          "the layer list is topological and names its input first",
          () => {
            assert.equal(engine.layers[0].name, engine.input.name);
            assert.equal(byName.size, engine.layers.length, "names are unique");
            const seen = new Set<string>();
            for (const l of engine.layers) {
              for (const i of l.inputs) {
                assert.ok(seen.has(i), `${l.name} reads ${i} before it`);
              }
              seen.add(l.name);
              if (l.spatial) {
                assert.equal(l.shape.length, 3, l.name);
              }
            }
            assert.ok(
              byName.get(layer)?.spatial,
              "the default layer is a feature map",
            );
            assert.equal(
              a.length,
              engine.input.width * engine.input.height * 3,
            );
          },
        );

        await t.step(
          "a whole pass and a pass split at a layer agree",
          async () => {
            const whole = await engine.lower([a], null);
            const r = await engine.upper(whole);
            whole.dispose();
            assert.equal(r.logits[0].length, engine.classes);
            assert.equal(r.classIndex[0], argMax(r.logits[0]));
            assert.equal(r.activations, null);
            for (const l of [layer, inner]) {
              const state = await engine.lower([a], l);
              const s = await engine.upper(state);
              state.dispose();
              close(
                s.logits[0],
                r.logits[0],
                tolerance,
                `logits split at ${l}`,
              );
            }
          },
        );

        await t.step("a batch gives what its items give alone", async () => {
          const state = await engine.lower([a, b], inner);
          const both = await engine.upper(state, {
            gradients: true,
            activations: true,
          });
          state.dispose();
          assert.equal(state.batch, 2);
          for (const [i, x] of [a, b].entries()) {
            const one = await engine.lower([x], inner);
            const r = await engine.upper(one, {
              gradients: true,
              activations: true,
            });
            one.dispose();
            close(
              both.logits[i],
              r.logits[0],
              tolerance,
              `logits of item ${i}`,
            );
            close(
              both.activations![i].data,
              r.activations![0].data,
              tolerance,
              `activations of item ${i}`,
            );
            close(
              both.gradients![i].data,
              r.gradients![0].data,
              tolerance,
              `gradients of item ${i}`,
            );
            assert.equal(both.classIndex[i], r.classIndex[0]);
          }
        });

        await t.step(
          "activations and gradients have the layer's shape",
          async () => {
            const state = await engine.lower([a], inner);
            const r = await engine.upper(state, {
              gradients: true,
              activations: true,
            });
            state.dispose();
            const [h, w, c] = byName.get(inner)!.shape;
            for (const map of [r.activations![0], r.gradients![0]]) {
              assert.deepEqual([map.height, map.width, map.channels], [
                h,
                w,
                c,
              ]);
              assert.equal(map.data.length, h * w * c);
            }
            assert.ok(
              r.gradients![0].data.some((v) => v !== 0),
              "some gradient flows",
            );
          },
        );

        await t.step("a given class is the one differentiated", async () => {
          const state = await engine.lower([a], layer);
          const top = await engine.upper(state, { gradients: true });
          const other = (top.classIndex[0] + 1) % engine.classes;
          const given = await engine.upper(state, {
            gradients: true,
            classIndex: other,
          });
          state.dispose();
          assert.equal(given.classIndex[0], other);
          close(
            given.logits[0],
            top.logits[0],
            tolerance,
            "logits do not depend on the class",
          );
          assert.ok(
            maxRelative(given.gradients![0].data, top.gradients![0].data) >
              1e-3,
            "another class, another gradient",
          );
        });

        await t.step("replaced activations continue the same way", async () => {
          const state = await engine.lower([a], inner);
          const own = await engine.upper(state, { activations: true });
          const act = own.activations![0].data;
          const half = act.map((v) => v * 0.5);
          const r = await engine.upper(state, { replace: [act, half, act] });
          const alone = await engine.upper(state, { replace: [half] });
          state.dispose();
          assert.equal(r.logits.length, 3);
          close(r.logits[0], own.logits[0], tolerance, "own activations");
          close(
            r.logits[2],
            own.logits[0],
            tolerance,
            "own activations, third item",
          );
          close(
            r.logits[1],
            alone.logits[0],
            tolerance,
            "a batch of replacements",
          );
          assert.ok(
            maxRelative(r.logits[1], own.logits[0]) > 1e-4,
            "halved activations change the logits",
          );
        });

        await t.step("input gradients have the input's shape", async () => {
          const state = await engine.lower([a, b], engine.input.name);
          const r = await engine.upper(state, { gradients: true });
          state.dispose();
          const g = r.gradients![0];
          assert.deepEqual([g.height, g.width, g.channels], [
            engine.input.height,
            engine.input.width,
            3,
          ]);
          if (!options.finiteDifferences) return;
          const c = r.classIndex[0];
          const order = [...g.data.keys()].sort((p, q) =>
            Math.abs(g.data[q]) - Math.abs(g.data[p])
          );
          const max = Math.abs(g.data[order[0]]);
          for (const i of order.slice(0, 4)) {
            const h = 1e-2;
            const plus = a.slice();
            plus[i] += h;
            const minus = a.slice();
            minus[i] -= h;
            const s = await engine.lower([plus, minus], null);
            const [lp, lm] = (await engine.upper(s)).logits;
            s.dispose();
            const fd = (lp[c] - lm[c]) / (2 * h);
            assert.ok(
              Math.abs(fd - g.data[i]) <= 2e-2 * max,
              `input ${i}: finite difference ${fd}, gradient ${g.data[i]}`,
            );
          }
        });

        await t.step(
          "memory estimates grow with gradients and batch sizes stay positive",
          () => {
            const forward = engine.itemBytes(null, false);
            const inner1 = engine.itemBytes(inner, false);
            const backward = engine.itemBytes(engine.input.name, true);
            assert.ok(forward > 0 && inner1 > 0);
            assert.ok(backward > engine.itemBytes(engine.input.name, false));
            assert.ok(engine.weightBytes > 0);
          },
        );

        await t.step("an unknown layer is rejected", async () => {
          await assert.rejects(() => engine.lower([a], "no such layer"));
        });
      } finally {
        engine.dispose();
      }
    },
  });
}
