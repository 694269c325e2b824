/**
 * Helpers shared by the ONNX engine tests: the committed torchvision
 * fixtures (tests/fixtures/onnx/), their deterministic input, small
 * hand-built ONNX classifiers and a seeded random source.
 *
 * @module
 */
import type { Engine } from "../../../models/engine.ts";
import { loadOnnxEngine } from "../../../models/onnx/load.ts";
import { encodeModel, type NodeProto } from "../../../models/onnx/proto.ts";
import { floatTensor, intAttr } from "../../../models/onnx/tensors.ts";

/** The torchvision fixtures, smallest first. */
export const FIXTURES = [
  "densenet",
  "mobilenet_v3_small",
  "vgg11",
  "resnet18",
  "efficientnet_b0",
  "mobilenet_v2",
] as const;

/** A gradient sample stored by tools/make_onnx_fixtures.py. */
export interface GradientSample {
  size: number;
  norm: number;
  max: number;
  indices: number[];
  values: number[];
}

/** What tools/make_onnx_fixtures.py stores beside each model. */
export interface FixtureInfo {
  model: string;
  opset: number;
  dynamicBatch: boolean;
  input: { shape: [number, number, number, number] };
  logits: number[];
  gradients:
    & { class: number; input: GradientSample }
    & Record<string, GradientSample>;
}

/** Path of a fixture file. */
export function fixturePath(file: string): string {
  return new URL(`../../fixtures/onnx/${file}`, import.meta.url).pathname;
}

/** A fixture's JSON. */
export async function fixtureInfo(name: string): Promise<FixtureInfo> {
  return JSON.parse(await Deno.readTextFile(fixturePath(`${name}.json`)));
}

/**
 * The fixtures' input, channels-last: item `n`, flat NCHW index `i` holds
 * float32(sin(0.01·i + 0.5·n)·2), as the Python script wrote it.
 */
export function fixtureInput(info: FixtureInfo, item = 0): Float32Array {
  const [, , h, w] = info.input.shape;
  const x = new Float32Array(h * w * 3);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let z = 0; z < w; z++) {
        const i = (c * h + y) * w + z;
        x[(y * w + z) * 3 + c] = Math.fround(
          Math.sin(0.01 * i + 0.5 * item) * 2,
        );
      }
    }
  }
  return x;
}

/** Loads a fixture on ONNX Runtime (one thread: tests share two cores). */
export function fixtureEngine(name: string): Promise<Engine> {
  return loadOnnxEngine(fixturePath(`${name}.onnx`), { threads: 1 });
}

/** A seeded uniform random source in [-1, 1) (mulberry32). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** Largest difference relative to the largest magnitude of `expected`. */
export function maxRelative(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): number {
  let max = 0;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    max = Math.max(max, Math.abs(expected[i]));
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  }
  return max === 0 ? diff : diff / max;
}

/** Builds the body of a small classifier: nodes from `x` (NCHW) to a 4-D output. */
export interface Body {
  nodes: NodeProto[];
  weights: { name: string; dims: number[]; data: Float32Array }[];
  /** The body's 4-D output and its channels. */
  output: string;
  channels: number;
}

/**
 * A classifier around `body`: input `x` [N, 3, size, size] (symbolic batch),
 * the body, global average pooling and a dense layer to `classes` logits.
 */
export function classifierBytes(
  body: Body,
  options: { size: number; classes?: number; opset?: number; seed?: number },
): Uint8Array {
  const classes = options.classes ?? 5;
  const next = random(options.seed ?? 3);
  const dense = Float32Array.from({ length: body.channels * classes }, next);
  const node = (
    opType: string,
    inputs: string[],
    output: string,
    attributes = [],
  ): NodeProto => ({
    name: output,
    opType,
    domain: "",
    inputs,
    outputs: [output],
    attributes,
  });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: options.opset ?? 17 }],
    producerName: "test",
    producerVersion: "",
    graph: {
      name: "test",
      nodes: [
        ...body.nodes,
        node("GlobalAveragePool", [body.output], "pooled"),
        {
          ...node("Flatten", ["pooled"], "flat"),
          attributes: [intAttr("axis", 1)],
        },
        node("Gemm", ["flat", "dense"], "logits"),
      ],
      initializers: [
        ...body.weights.map((w) =>
          floatTensor(w.name, { dims: w.dims, data: w.data })
        ),
        floatTensor("dense", { dims: [body.channels, classes], data: dense }),
      ],
      inputs: [{
        name: "x",
        elemType: 1,
        shape: ["N", 3, options.size, options.size],
      }],
      outputs: [{ name: "logits", elemType: 1, shape: ["N", classes] }],
      valueInfo: [],
    },
  });
}
