/**
 * A snapshot of a TF.js layers model's weights as plain arrays, laid out
 * for ONNX (convolution kernels as OIHW), so the TF.js model can be
 * released once it is taken. BatchNorm is kept as its per-channel affine
 * `x · scale + shift`, computed in float32 the way TF.js does.
 *
 * @module
 */
import { convChain, type GraphSource } from "../tfjs/graph.ts";
import type { ExternalData } from "./proto.ts";
import { type WeightsFile, writeWeightsFile } from "./weights_file.ts";

/** Values moved to a weights file ({@linkcode moveKernelsToFile}). */
export interface StoredFloats {
  readonly external: ExternalData;
}

/** One layer's weights, ready for ONNX. */
export interface LayerWeights {
  /** Conv2D: `[out, in / groups, kh, kw]`; Dense: `[in, out]`. */
  kernel?: { data: Float32Array | StoredFloats; dims: number[] } | undefined;
  bias?: Float32Array | undefined;
  /** BatchNormalization as an affine map per channel. */
  scale?: Float32Array | undefined;
  shift?: Float32Array | undefined;
  /** Conv2D: the BatchNorm already folded into `kernel` and `bias`. */
  foldedWith?: string | undefined;
  /** Conv2D folded: whether the conv had a bias of its own. */
  hadBias?: boolean | undefined;
}

// deno-lint-ignore no-explicit-any
function config(source: GraphSource, name: string): Record<string, any> {
  return source.records.get(name)!.layer.getConfig() as Record<
    string,
    unknown
  >;
}

/** One Keras weight's values (row-major) and shape, e.g. a kernel in HWIO. */
export interface KerasWeight {
  data: Float32Array;
  shape: number[];
}

/**
 * A layer's weights in `layer.getWeights()` order. The arrays may be views
 * of the caller's buffers: the snapshot copies what it keeps.
 */
export type WeightReader = (layer: string) => Promise<KerasWeight[]>;

/** Reads weights from the layers' tensors (a model loaded on a backend). */
function tensorReader(source: GraphSource): WeightReader {
  return (name) =>
    Promise.all(
      source.records.get(name)!.layer.getWeights().map(async (t) => ({
        // `data()`, never `dataSync()`: the active backend may be WebGPU.
        data: await t.data() as Float32Array,
        shape: t.shape as number[],
      })),
    );
}

/** HWIO (Keras) to OIHW (ONNX). */
function toOIHW(data: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        const from = ((y * kw + x) * ci + i) * co;
        for (let o = 0; o < co; o++) {
          out[((o * ci + i) * kh + y) * kw + x] = data[from + o];
        }
      }
    }
  }
  return out;
}

function batchNorm(
  c: Record<string, unknown>,
  weights: KerasWeight[],
): LayerWeights {
  let i = 0;
  const gamma = c.scale ? weights[i++].data : null;
  const beta = c.center ? weights[i++].data : null;
  const mean = weights[i++].data;
  const variance = weights[i++].data;
  const f = Math.fround;
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let k = 0; k < mean.length; k++) {
    const inv = f(1 / Math.sqrt(f(variance[k] + f(c.epsilon as number))));
    scale[k] = gamma ? f(gamma[k] * inv) : inv;
    const shifted = -f(mean[k] * scale[k]);
    shift[k] = beta ? f(beta[k] + shifted) : shifted;
  }
  return { scale, shift };
}

/**
 * Reads the weights of every Conv2D, Dense and BatchNormalization layer,
 * from the layers' tensors unless `read` says where else (what it gives is
 * copied, never kept).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeModel } from "../tfjs/graph.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "../tfjs/backend.ts";
 * await selectBackend("cpu");
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
 * const weights = await snapshotWeights(describeModel(model));
 * model.dispose(); // the snapshot is plain arrays
 * assert.deepEqual([...weights.keys()], ["conv1", "bn_conv1", "fc1000"]);
 * assert.deepEqual(weights.get("conv1")?.kernel?.dims, [4, 3, 3, 3]); // OIHW
 * ```
 */
export async function snapshotWeights(
  source: GraphSource,
  read: WeightReader = tensorReader(source),
): Promise<Map<string, LayerWeights>> {
  const out = new Map<string, LayerWeights>();
  for (const name of source.order) {
    const r = source.records.get(name)!;
    if (!WEIGHTED.has(r.className)) continue;
    const weights = await read(name);
    const c = config(source, name);
    if (r.className === "Conv2D") {
      const [kernel, bias] = weights;
      const shape = kernel.shape;
      out.set(name, {
        kernel: {
          // toOIHW makes the copy.
          data: toOIHW(kernel.data, shape),
          dims: [shape[3], shape[2], shape[0], shape[1]],
        },
        bias: c.useBias && bias ? bias.data.slice() : undefined,
      });
    } else if (r.className === "Dense") {
      const [kernel, bias] = weights;
      out.set(name, {
        kernel: { data: kernel.data.slice(), dims: kernel.shape },
        bias: c.useBias && bias ? bias.data.slice() : undefined,
      });
    } else {
      out.set(name, batchNorm(c, weights));
    }
  }
  return out;
}

const WEIGHTED = new Set(["Conv2D", "Dense", "BatchNormalization"]);

/**
 * Folds each BatchNorm into the Conv2D before it (per output channel, in
 * float32 like TF.js' own folding), where the TF.js engine fuses them, so
 * only the fused weights are kept. A BatchNorm with a zero scale stays
 * apart: its conv could not be unfolded again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeModel } from "../tfjs/graph.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "../tfjs/backend.ts";
 * await selectBackend("cpu");
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
 * const source = describeModel(model);
 * const weights = await snapshotWeights(source);
 * foldChains(source, weights);
 * assert.equal(weights.get("conv1")?.foldedWith, "bn_conv1");
 * model.dispose();
 * ```
 */
export function foldChains(
  source: GraphSource,
  weights: Map<string, LayerWeights>,
): void {
  for (const name of source.order) {
    if (source.records.get(name)!.className !== "Conv2D") continue;
    const chain = convChain(source, name);
    const bn = chain.find((n) =>
      source.records.get(n)!.className === "BatchNormalization"
    );
    const affine = bn ? weights.get(bn) : undefined;
    if (!bn || !affine || affine.scale!.some((s) => s === 0)) continue;
    // In place: the snapshot owns these arrays, and a second copy of
    // ResNet-50's kernels would cost 100 MB at load.
    const conv = weights.get(name)!;
    const { dims } = conv.kernel!;
    const data = inMemory(conv.kernel!.data);
    const per = data.length / dims[0];
    const bias = new Float32Array(dims[0]);
    for (let o = 0; o < dims[0]; o++) {
      const s = affine.scale![o];
      for (let j = o * per; j < (o + 1) * per; j++) {
        data[j] = Math.fround(data[j] * s);
      }
      bias[o] = conv.bias
        ? Math.fround(Math.fround(conv.bias[o] * s) + affine.shift![o])
        : affine.shift![o];
    }
    weights.set(name, {
      kernel: { data, dims },
      bias,
      foldedWith: bn,
      hadBias: Boolean(conv.bias),
    });
  }
}

/**
 * A conv's weights for a graph that does (`layer.withBatchNorm`) or does not
 * fold its BatchNorm in: the stored weights, or the raw ones recovered from
 * them (dividing by the scale: within a float32 rounding of the originals).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeModel } from "../tfjs/graph.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "../tfjs/backend.ts";
 * await selectBackend("cpu");
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
 * const source = describeModel(model);
 * const weights = await snapshotWeights(source);
 * const before = Float32Array.from(weights.get("conv1")!.kernel!.data as Float32Array);
 * foldChains(source, weights);
 * const raw = convWeights(weights, { name: "conv1", withBatchNorm: false }); // ResNet-50: "res4b_branch2a"
 * (raw.kernel!.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - before[i]!) < 1e-5)); // unfolded again
 * model.dispose();
 * ```
 */
export function convWeights(
  weights: ReadonlyMap<string, LayerWeights>,
  layer: {
    /** The Conv2D layer's name. */
    name: string;
    /** Whether the graph folds its BatchNorm in (the stored weights). */
    withBatchNorm: boolean;
    /** Where moved kernels are (see {@linkcode moveKernelsToFile}). */
    file?: WeightsFile | null | undefined;
  },
): LayerWeights {
  const { name, withBatchNorm } = layer;
  const conv = weights.get(name)!;
  if (withBatchNorm || !conv.foldedWith) return conv;
  const { scale, shift } = weights.get(conv.foldedWith)!;
  const { dims } = conv.kernel!;
  const stored = conv.kernel!.data;
  const data = stored instanceof Float32Array
    ? stored
    : new Float32Array(layer.file!.read(stored.external).buffer);
  const per = data.length / dims[0];
  const kernel = new Float32Array(data.length);
  const bias = new Float32Array(dims[0]);
  for (let o = 0; o < dims[0]; o++) {
    for (let j = o * per; j < (o + 1) * per; j++) {
      kernel[j] = data[j] / scale![o];
    }
    bias[o] = (conv.bias![o] - shift![o]) / scale![o];
  }
  return {
    kernel: { data: kernel, dims },
    bias: conv.hadBias ? bias : undefined,
  };
}

function inMemory(data: Float32Array | StoredFloats): Float32Array {
  if (data instanceof Float32Array) return data;
  throw new Error("Export error: the kernel was moved to a file already");
}

/**
 * Moves the kernels of `weights` (nearly all of a CNN's bytes) into a
 * weights file in `folder`, in place: each becomes a reference into the
 * file, and the arrays that own their buffer are freed (detached). Biases and BatchNorm's per-channel
 * values stay in memory (kilobytes; unfolding a conv reads them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const folder = await Deno.makeTempDir();
 * const data = new Float32Array(300).fill(0.5);
 * const weights = new Map<string, LayerWeights>([
 *   ["conv1", { kernel: { data, dims: [4, 3, 5, 5] } }],
 * ]);
 * const file = moveKernelsToFile(weights, folder);
 * assert.equal(data.length, 0); // freed at once (detached), not at the next GC
 * const kernel = weights.get("conv1")!.kernel!;
 * assert.ok(!(kernel.data instanceof Float32Array));
 * assert.deepEqual(new Float32Array(file.read(kernel.data.external).buffer), new Float32Array(300).fill(0.5));
 * file.close();
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export function moveKernelsToFile(
  weights: Map<string, LayerWeights>,
  folder: string,
): WeightsFile {
  const moved = [...weights].filter(([, w]) =>
    w.kernel?.data instanceof Float32Array
  );
  const { file, refs } = writeWeightsFile(
    folder,
    moved.map(([, w]) => {
      const data = w.kernel!.data as Float32Array;
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }),
  );
  moved.forEach(([name, w], i) => {
    const data = w.kernel!.data as Float32Array;
    weights.set(name, {
      ...w,
      kernel: { data: { external: refs[i]! }, dims: w.kernel!.dims },
    });
    // Freed now, not at the next full GC: ONNX Runtime allocates next, and
    // the pages would otherwise count twice at the peak. Only an array that
    // is its whole buffer (the snapshot's own) is detached.
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
      (data.buffer as ArrayBuffer).transfer(0);
    }
  });
  return file;
}
