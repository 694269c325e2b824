/**
 * The TF.js engine: a layers model compiled into a fused graph
 * (`graph.ts`), run in two halves (`execute.ts`) on the active TF.js
 * backend (WebGPU, WASM or CPU), with every result read back as plain
 * arrays.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type {
  Engine,
  EngineInfo,
  FeatureMap,
  GraphLayer,
  LowerState,
  UpperResult,
} from "../engine.ts";
import { resnetAliases } from "./aliases.ts";
import {
  type BackendDeps,
  backendDeps,
  type BackendPreference,
  selectBackend,
} from "./backend.ts";
import {
  type LowerState as TensorState,
  runLower,
  runUpper,
} from "./execute.ts";
import {
  type CompiledGraph,
  compileGraph,
  describeModel,
  type GraphSource,
} from "./graph.ts";
import { loadArtifacts, ModelLoadError } from "./io.ts";

/** Options of {@linkcode loadTfjsEngine}. */
export interface TfjsEngineOptions {
  /** A `model.json` path, or an IO handler (tests use in-memory models). */
  model: string | tf.io.IOHandler;
  /** @default "auto" */
  backend?: BackendPreference | undefined;
  /** Seams for tests; @default the real adapter lookup and activation */
  backendDeps?: BackendDeps | undefined;
  /** WASM threads; @default every core */
  threads?: number | undefined;
  /** Why other engines were skipped before this one (kept in `info`). */
  skipped?: readonly string[] | undefined;
  log?: ((message: string) => void) | undefined;
}

/** The state `lower` hands out: device tensors, released by `dispose`. */
interface TfjsLowerState extends LowerState {
  readonly tensors: TensorState;
}

async function readArray(tensor: tf.Tensor): Promise<Float32Array> {
  // dataSync() throws on WebGPU in Deno: always read asynchronously.
  return new Float32Array(await tensor.data());
}

/** Splits a batch's values into one array per item. */
function split(data: Float32Array, n: number): Float32Array[] {
  if (n === 1) return [data];
  const size = data.length / n;
  return Array.from(
    { length: n },
    (_, i) => data.slice(i * size, (i + 1) * size),
  );
}

function featureMaps(tensor: tf.Tensor, data: Float32Array): FeatureMap[] {
  const [n, height, width, channels] = tensor.shape;
  return split(data, n).map((d) => ({ height, width, channels, data: d }));
}

function outputShape(source: GraphSource, name: string): number[] {
  const raw = source.records.get(name)!.layer.outputShape;
  const shape = (Array.isArray(raw[0]) ? raw[0] : raw) as (number | null)[];
  return shape.slice(1).map((d) => d ?? -1);
}

function product(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * Math.max(1, d), 1);
}

/**
 * Wraps a loaded layers model as an {@linkcode Engine} on the backend
 * `info` describes (already active).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The shipped ResNet-50: tfjsEngine(await tfl.loadLayersModel(handler), info)
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "./backend.ts";
 * const info = await selectBackend("cpu");
 * // A tiny Keras classifier (random weights): conv, batch norm, ReLU, pooling, dense.
 * const input = tfl.input({ shape: [8, 8, 3], name: "input_1" });
 * const layers = [
 *   tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "conv1" }),
 *   tfl.layers.batchNormalization({ name: "bn_conv1" }),
 *   tfl.layers.activation({ activation: "relu", name: "activation" }),
 *   tfl.layers.globalAveragePooling2d({ name: "avg_pool" }),
 *   tfl.layers.dense({ units: 3, activation: "softmax", name: "fc1000" }),
 * ];
 * const output = layers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
 * const model = tfl.model({ inputs: input, outputs: output });
 * const engine = tfjsEngine(model, info);
 * assert.equal(engine.info.name, "cpu");
 * assert.equal(engine.defaultLayer, "activation"); // the last 4-D output
 * const state = await engine.lower([new Float32Array(8 * 8 * 3)], engine.defaultLayer);
 * const { gradients } = await engine.upper(state, { gradients: true });
 * state.dispose();
 * assert.deepEqual([gradients?.[0]?.height, gradients?.[0]?.channels], [8, 4]);
 * engine.dispose();
 * ```
 */
export function tfjsEngine(model: tfl.LayersModel, info: EngineInfo): Engine {
  const source = describeModel(model);
  const inputShape = model.inputs[0].shape;
  const [height, width, depth] = inputShape.slice(1);
  if (!height || !width || depth !== 3) {
    throw new ModelLoadError(
      `Unsupported model: input shape [${inputShape}] is not [batch, height, width, 3]`,
    );
  }
  const classes = model.outputs[0].shape[1] ?? 0;
  const aliases = resnetAliases(source);
  const layers: GraphLayer[] = source.order.map((name) => {
    const r = source.records.get(name)!;
    const shape = outputShape(source, name);
    return {
      name,
      kind: r.className,
      inputs: r.inputs,
      shape,
      spatial: shape.length === 3 && name !== source.input,
      aliases: aliases.get(name) ?? [],
    };
  });
  const spatial = layers.filter((l) => l.spatial);
  if (spatial.length === 0) {
    throw new ModelLoadError(
      "Unsupported model: it has no layer with a 4-D output",
    );
  }
  const graphs = new Map<string, CompiledGraph>();
  const graphFor = (layer: string | null): CompiledGraph => {
    const key = layer ?? "";
    let graph = graphs.get(key);
    if (!graph) {
      if (layer !== null && !source.records.has(layer)) {
        throw new Error(`Graph error: no layer "${layer}"`);
      }
      graph = compileGraph(source, { boundary: layer });
      graphs.set(key, graph);
    }
    return graph;
  };
  const inputValues = width * height * 3;
  const batchTensor = (
    arrays: readonly Float32Array[],
    shape: readonly number[],
  ): tf.Tensor4D => {
    const size = product(shape);
    const data = new Float32Array(arrays.length * size);
    arrays.forEach((a, i) => {
      if (a.length !== size) {
        throw new Error(`Input has ${a.length} values, expected ${size}`);
      }
      data.set(a, i * size);
    });
    return tf.tensor4d(data, [arrays.length, ...shape] as [
      number,
      number,
      number,
      number,
    ]);
  };
  const weightBytes = model.weights.reduce(
    (sum, w) => sum + product(w.shape as number[]) * 4,
    0,
  );
  const byName = new Map(layers.map((l) => [l.name, l]));

  return {
    info,
    input: { name: source.input, width, height },
    classes,
    layers,
    defaultLayer: spatial[spatial.length - 1].name,
    weightBytes,
    itemBytes(layer, gradients) {
      const nodes = graphFor(layer).nodes;
      const split = layer === null
        ? nodes.length
        : layer === source.input
        ? 0
        : nodes.findIndex((n) => n.name === layer) + 1;
      const sizes = nodes.map((n) => product(byName.get(n.name)!.shape) * 4);
      const largest = Math.max(inputValues * 4, ...sizes);
      // Forward: a few tensors are live at once (inputs are released as
      // their last consumer runs); backward keeps every tensor above the
      // split on the tape, and their gradients pass through as well.
      const upper = sizes.slice(split).reduce((s, b) => s + b, 0);
      return 4 * largest + (gradients ? 2 * upper : 0);
    },
    lower(inputs, layer) {
      try {
        const x = batchTensor(inputs, [height, width, 3]);
        try {
          const tensors = runLower(graphFor(layer), x, { boundary: layer });
          const state: TfjsLowerState = {
            layer,
            batch: inputs.length,
            bytes: tensors.bytes,
            tensors,
            dispose: () => tensors.dispose(),
          };
          return Promise.resolve(state);
        } finally {
          x.dispose();
        }
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async upper(state, options = {}): Promise<UpperResult> {
      const { tensors, layer, batch } = state as TfjsLowerState;
      const graph = graphFor(layer);
      const shape = layer === null ? [] : byName.get(layer)!.shape;
      const replace = options.replace
        ? batchTensor(options.replace, shape)
        : undefined;
      const n = replace ? options.replace!.length : batch;
      const gradients = Boolean(options.gradients && layer !== null);
      let result: ReturnType<typeof runUpper> | null = null;
      try {
        result = runUpper(graph, tensors, {
          gradients,
          classIndex: options.classIndex,
          replace,
        });
        // A copy: the state may be evicted from a cache (disposed) while
        // this read is under way.
        const activationsTensor = options.activations && layer !== null
          ? tf.clone(result.activations!)
          : null;
        const [logits, classIndex, activations, grads] = await Promise.all([
          readArray(result.logits),
          result.classIndex.data(),
          activationsTensor
            ? readArray(activationsTensor).finally(() =>
              activationsTensor.dispose()
            )
            : null,
          result.gradients ? readArray(result.gradients) : null,
        ]);
        return {
          logits: split(logits, n),
          classIndex: Array.from(classIndex, Number),
          activations: activations
            ? featureMaps(result.activations!, activations)
            : null,
          gradients: grads ? featureMaps(result.gradients!, grads) : null,
        };
      } finally {
        // `activations` is the state's tensor or `replace`: not ours.
        if (result) {
          tf.dispose(
            [result.logits, result.classIndex, result.gradients].filter(
              (t): t is tf.Tensor => t !== null,
            ),
          );
        }
        replace?.dispose();
      }
    },
    dispose() {
      model.dispose();
    },
  };
}

/**
 * Chooses a TF.js backend, loads a layers model onto it and wraps it as an
 * {@linkcode Engine}.
 *
 * @example
 * ```ts ignore
 * // Loads a whole model from disk (the shipped ResNet-50 takes seconds).
 * const engine = await loadTfjsEngine({ model: "model.json", backend: "wasm" });
 * engine.info.name; // "wasm"
 * ```
 */
export async function loadTfjsEngine(
  options: TfjsEngineOptions,
): Promise<Engine> {
  const log = options.log ?? (() => {});
  const selected = await selectBackend(options.backend ?? "auto", {
    deps: options.backendDeps ?? backendDeps({ threads: options.threads, log }),
    log,
  });
  const info = {
    ...selected,
    skipped: [...(options.skipped ?? []), ...selected.skipped],
  };
  const { artifacts, release } = await loadArtifacts(options.model);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  release(); // TF.js holds copies now
  try {
    return tfjsEngine(model, info);
  } catch (error) {
    model.dispose();
    throw error;
  }
}
