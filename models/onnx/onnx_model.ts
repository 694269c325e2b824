/**
 * A user's ONNX classifier as an {@linkcode OnnxSource}: one float image
 * input `[N, 3, H, W]` (or channels-last `[N, H, W, 3]`) of fixed size and a
 * batch axis that is fixed or symbolic, one logits output `[N, classes]` (a
 * final softmax is cut off: explanations need class scores). Its layers are
 * the nodes' outputs; shapes come from the file's value infos or from one
 * probe run; PyTorch module names become aliases (`layer4`).
 *
 * @module
 */
import type { GraphLayer } from "../engine.ts";
import { ModelLoadError } from "../tfjs/io.ts";
import { torchAliases } from "./aliases.ts";
import { floatValue, type Graph, modelOf, staticTensors } from "./ir.ts";
import type {
  ModelProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
} from "./proto.ts";
import { layerShape, type OnnxSource } from "./source.ts";
import type { WeightsFile } from "./weights_file.ts";
import { getInt, intsAttr, tensorBytes } from "./tensors.ts";

/** The channels-last input Lumen feeds (the model's own input follows it). */
export const NHWC_INPUT = "lumen::input";

/**
 * Runs `model` once on zeros of batch `batch` and returns the shapes of
 * `outputs` (batch axis included) and whether each is a float tensor.
 */
export type ShapeProbe = (
  model: ModelProto,
  outputs: readonly string[],
  batch: number,
) => Promise<Map<string, { dims: number[]; float: boolean }>>;

const POOLING = new Set([
  "GlobalAveragePool",
  "GlobalMaxPool",
  "GlobalLpPool",
  "AveragePool",
  "MaxPool",
  "LpPool",
  "ReduceMean",
  "ReduceMax",
]);

function unsupported(message: string): never {
  throw new ModelLoadError(`Unsupported model: ${message}`);
}

function describe(v: ValueInfoProto): string {
  return `"${v.name}" [${(v.shape ?? []).map((d) => d ?? "?").join(", ")}]`;
}

/** Known shapes from the file: every axis a number but a symbolic batch. */
function declaredShapes(model: ModelProto): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const g = model.graph;
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) {
    if (!v.shape) continue;
    const dims = v.shape.map((
      d,
      i,
    ) => (typeof d === "number" ? d : i === 0 ? -1 : NaN));
    if (dims.every((d) => !Number.isNaN(d))) shapes.set(v.name, dims);
  }
  return shapes;
}

/**
 * Reads a classifier: checks its input and output, wraps its input in a
 * transpose from channels-last, finds every layer's shape (one probe run
 * when the file does not give them) and its aliases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeModel } from "./_decode.ts";
 * import { encodeModel } from "./proto.ts";
 * import { createSession, loadOrt } from "./session.ts";
 * // The probe runs the model once for its layers' shapes (readOnnxClassifier's
 * // runs it in ONNX Runtime, as here).
 * const ort = await loadOrt();
 * const probe: ShapeProbe = async (model, outputs, batch) => {
 *   const handle = await createSession(ort, encodeModel(model), { threads: 1 });
 *   try {
 *     const dims = (model.graph.inputs[0]?.shape ?? []).map((d) => typeof d === "number" ? d : batch);
 *     const x = new ort.Tensor("float32", new Float32Array(dims.reduce((p, d) => p * d, 1)), dims);
 *     const out = await handle.use((run) => run({ [model.graph.inputs[0]!.name]: x }, outputs));
 *     return new Map(outputs.map((name) => [name, { dims: [...out[name]!.dims], float: out[name]!.type === "float32" }]));
 *   } finally {
 *     handle.release();
 *   }
 * };
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const bytes = await Deno.readFile("tests/fixtures/onnx/resnet18.onnx");
 * const source = await onnxClassifier(decodeModel(bytes), { probe });
 * const layer4 = source.layers.find((l) => l.aliases.includes("layer4"));
 * assert.equal(layer4?.name, "/layer4/layer4.1/relu_1/Relu_output_0");
 * assert.deepEqual(layer4?.shape, [2, 2, 64]);
 * ```
 */
export async function onnxClassifier(
  model: ModelProto,
  options: {
    probe: ShapeProbe;
    /** The file `model`'s external initializers are in; @default null */
    file?: WeightsFile | null | undefined;
  },
): Promise<OnnxSource> {
  const g = model.graph;
  const initializers = new Map<string, TensorProto>(
    g.initializers.map((t) => [t.name, t]),
  );
  const inputs = g.inputs.filter((v) => !initializers.has(v.name));
  if (inputs.length !== 1) {
    unsupported(
      `it has ${inputs.length} inputs (${inputs.map(describe).join(", ")}); ` +
        "Lumen explains classifiers with one image input [N, 3, H, W]",
    );
  }
  const [input] = inputs;
  const s = input.shape ?? [];
  const nchw = s.length === 4 && s[1] === 3;
  const nhwc = s.length === 4 && s[3] === 3 && !nchw;
  const [height, width] = nchw ? [s[2], s[3]] : [s[1], s[2]];
  if (
    input.elemType !== 1 || !(nchw || nhwc) || typeof height !== "number" ||
    typeof width !== "number" || height < 1 || width < 1
  ) {
    unsupported(
      `input ${
        describe(input)
      } is not a float image [N, 3, H, W] of fixed height and width`,
    );
  }
  const batch = typeof s[0] === "number" && s[0] > 0 ? s[0] : null;
  if (g.outputs.length !== 1) {
    unsupported(
      `it has ${g.outputs.length} outputs; Lumen explains classifiers with one logits output [N, classes]`,
    );
  }
  const [output] = g.outputs;
  if (output.elemType !== 1 || (output.shape && output.shape.length !== 2)) {
    unsupported(`output ${describe(output)} is not float logits [N, classes]`);
  }

  // A final softmax is cut: explanations need the scores before it.
  let nodes: NodeProto[] = [...g.nodes];
  let logits = output.name;
  const last = nodes.find((n) => n.outputs[0] === logits);
  if (
    last && ["Softmax", "LogSoftmax"].includes(last.opType) &&
    [-1, 1].includes(getInt(last, { name: "axis", fallback: -1 })) &&
    !nodes.some((n) => n.inputs.includes(logits))
  ) {
    logits = last.inputs[0];
    nodes = nodes.filter((n) => n !== last);
  }
  const graphInput = nchw ? NHWC_INPUT : input.name;
  if (nchw) {
    nodes.unshift({
      name: NHWC_INPUT,
      opType: "Transpose",
      domain: "",
      inputs: [NHWC_INPUT],
      outputs: [input.name],
      attributes: [intsAttr("perm", [0, 3, 1, 2])],
    });
  }
  const shapes = declaredShapes(model);
  const nhwcShape = [batch ?? -1, height, width, 3];
  shapes.set(graphInput, nhwcShape);
  shapes.set(input.name, nchw ? [batch ?? -1, 3, height, width] : nhwcShape);
  const statics = staticTensors({ nodes, initializers });
  const base = {
    nodes,
    initializers,
    input: graphInput,
    logits,
    shapes,
    opsets: model.opsetImport,
    irVersion: model.irVersion,
    batch,
  };
  const missing = nodes.flatMap((n) => n.outputs).filter((o) =>
    o !== "" && !shapes.has(o) && !(statics.has(o) && initializers.has(o))
  );
  if (!shapes.has(logits) && !missing.includes(logits)) missing.push(logits);
  if (missing.length > 0) {
    const probeBatch = batch ?? 2;
    const probeModel = modelOf(base, nodes, {
      inputs: [
        floatValue(graphInput, nhwcShape.map((d) => (d < 0 ? probeBatch : d))),
      ],
      outputs: missing.map((name) => ({ name, elemType: 0, shape: null })),
    });
    let found: Awaited<ReturnType<ShapeProbe>>;
    try {
      found = await options.probe(probeModel, missing, probeBatch);
    } catch (error) {
      throw new ModelLoadError(
        `Cannot load model: ONNX Runtime cannot run it: ${
          (error as Error).message
        }`,
      );
    }
    for (const [name, { dims, float }] of found) {
      // A symbolic batch shows as the probe's batch on float tensors.
      shapes.set(
        name,
        batch === null && float && dims[0] === probeBatch
          ? [-1, ...dims.slice(1)]
          : dims,
      );
    }
  }
  const logitsShape = shapes.get(logits);
  if (!logitsShape || logitsShape.length !== 2 || logitsShape[1] < 1) {
    unsupported(
      `its logits have shape [${logitsShape ?? "?"}], expected [N, classes]`,
    );
  }
  const graph: Graph = base;
  return classifierSource(graph, input.name, {
    size: { width, height },
    file: options.file ?? null,
  });
}

function classifierSource(
  graph: Graph,
  inputLayer: string,
  how: { size: { width: number; height: number }; file: WeightsFile | null },
): OnnxSource {
  const { size } = how;
  const statics = staticTensors(graph);
  // Layers: nodes that compute from the input and feed the logits.
  const needed = new Set([graph.logits]);
  const used = new Set<NodeProto>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    used.add(n);
    for (const i of n.inputs) needed.add(i);
  }
  const layerOf = new Map<string, string>([[graph.input, inputLayer], [
    inputLayer,
    inputLayer,
  ]]);
  const is4d = (t: string) => graph.shapes.get(t)?.length === 4;
  const aliases = torchAliases(graph.nodes, is4d);
  const layers: GraphLayer[] = [{
    name: inputLayer,
    kind: "Input",
    inputs: [],
    shape: [size.height, size.width, 3],
    spatial: false,
    aliases: [],
  }];
  for (const n of graph.nodes) {
    if (
      !used.has(n) || n.outputs.every((o) => statics.has(o)) ||
      n.name === NHWC_INPUT
    ) continue;
    const name = n.outputs[0];
    for (const o of n.outputs) layerOf.set(o, name);
    const shape = graph.shapes.get(name) ?? [];
    layers.push({
      name,
      kind: n.opType,
      inputs: [
        ...new Set(
          n.inputs.filter((i) => layerOf.has(i)).map((i) => layerOf.get(i)!),
        ),
      ],
      shape: layerShape(shape),
      spatial: shape.length === 4,
      aliases: aliases.get(name) ?? [],
    });
  }
  const spatial = layers.filter((l) => l.spatial);
  if (spatial.length === 0) unsupported("it has no layer with a 4-D output");
  const features = spatial.filter((l) =>
    l.shape[0] * l.shape[1] > 1 && !POOLING.has(l.kind)
  );
  const defaultLayer = (features.length ? features : spatial).at(-1)!.name;
  const names = new Set(layers.map((l) => l.name));
  const weightBytes = [...graph.initializers.values()].reduce(
    (s, t) => s + tensorBytes(t),
    0,
  );
  return {
    input: { name: inputLayer, ...size },
    classes: graph.shapes.get(graph.logits)![1],
    layers,
    defaultLayer,
    weightBytes,
    weightsFile: how.file,
    graphFor(layer) {
      if (layer === null) return { graph, tensor: graph.logits };
      if (!names.has(layer)) {
        throw new Error(`Graph error: no layer "${layer}"`);
      }
      return { graph, tensor: layer === inputLayer ? graph.input : layer };
    },
  };
}
