/**
 * Model bytes for ONNX Runtime with the weights left where they are: each
 * large initializer becomes an external-data reference into an in-memory
 * "file" (the `ArrayBuffer` its values already live in), given to the
 * session with `sessionOptions.externalData`. The model bytes shrink to the
 * graph (kilobytes), so no 100 MB copy of ResNet-50's weights is encoded,
 * held while the session is made and parsed again by ONNX Runtime (which
 * still copies the weights into its own memory).
 *
 * @module
 */
import {
  type AttributeProto,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type TensorProto,
} from "./proto.ts";
import { type WeightsFile, writeWeightsFile } from "./weights_file.ts";

/** An in-memory external data file, as `sessionOptions.externalData` takes it. */
export interface ExternalFile {
  /** The name initializers refer to (their `location`). */
  readonly path: string;
  readonly data: Uint8Array;
}

/** A model as ONNX Runtime takes it: graph bytes and the weights' files. */
export interface SessionModel {
  readonly bytes: Uint8Array;
  /**
   * The buffers the bytes refer to. ONNX Runtime 1.30 copies them when the
   * session is made; `createSession` still holds them until it is freed,
   * in case a later version reads them in place.
   */
  readonly files: readonly ExternalFile[];
  /**
   * The folder of the weights file that initializers already external refer
   * to (see {@linkcode moveWeightsToFile}); null: none.
   */
  readonly folder: string | null;
}

/** Options of {@linkcode encodeSessionModel}. */
export interface EncodeSessionOptions {
  /**
   * Initializers at least this large go external (none with a `file`);
   * @default 1024
   */
  minBytes?: number | undefined;
  /** Where the model's already external initializers are; @default null */
  file?: WeightsFile | null | undefined;
}

/**
 * Encodes `model` with its large initializers (`rawData` of at least
 * `minBytes`) as external data pointing into the buffers that hold them,
 * one file per buffer. The model is not changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeModel } from "./proto.ts";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights): its weights are views of the file.
 * const file = await Deno.readFile("tests/fixtures/onnx/resnet18.onnx");
 * const { bytes, files } = encodeSessionModel(decodeModel(file));
 * assert.equal(files.length, 1); // one buffer: the file itself
 * assert.equal(files[0]?.data.buffer, file.buffer); // not copied
 * assert.ok(bytes.length < file.length / 10);
 * const ort = await loadOrt();
 * const session = await ort.InferenceSession.create(bytes, { externalData: [...files] });
 * assert.deepEqual(session.inputNames, ["input"]);
 * await session.release();
 * ```
 */
export function encodeSessionModel(
  model: ModelProto,
  options: EncodeSessionOptions = {},
): SessionModel {
  // ONNX Runtime looks every external location up in the in-memory files
  // when there are any: with a weights file, what is left stays inline.
  const minBytes = options.file ? Infinity : options.minBytes ?? 1024;
  const files = new Map<ArrayBufferLike, ExternalFile>();
  const initializers = model.graph.initializers.map((t): TensorProto => {
    const raw = t.rawData;
    if (!raw || raw.byteLength < minBytes) return t;
    let file = files.get(raw.buffer);
    if (!file) {
      file = {
        path: `lumen-weights-${files.size}`,
        data: new Uint8Array(raw.buffer),
      };
      files.set(raw.buffer, file);
    }
    const { rawData: _, ...rest } = t;
    return {
      ...rest,
      external: {
        location: file.path,
        offset: raw.byteOffset,
        length: raw.byteLength,
      },
    };
  });
  const bytes = encodeModel({
    ...model,
    graph: { ...model.graph, initializers },
  });
  return {
    bytes,
    files: [...files.values()],
    folder: options.file?.folder ?? null,
  };
}

/**
 * `model` with its large initializers (`rawData` of at least `minBytes`)
 * moved into a weights file in `folder` (see `weights_file.ts`): the model
 * returned no longer refers to the bytes it was read from, so they can be
 * freed. Throws when the folder cannot be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeModel } from "./proto.ts";
 * import { loadOrt, createSession } from "./session.ts";
 * const folder = await Deno.makeTempDir();
 * // A tiny torchvision ResNet-18 (random weights).
 * const decoded = decodeModel(await Deno.readFile("tests/fixtures/onnx/resnet18.onnx"));
 * const { model, file } = moveWeightsToFile(decoded, folder);
 * assert.ok(model.graph.initializers.every((t) => !t.rawData || t.rawData.length < 1024));
 * const session = await createSession(await loadOrt(), encodeSessionModel(model, { file }), { threads: 1 });
 * assert.deepEqual(session.inputNames, ["input"]);
 * session.release();
 * file.close();
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export function moveWeightsToFile(
  model: ModelProto,
  folder: string,
  options: { minBytes?: number | undefined } = {},
): { model: ModelProto; file: WeightsFile } {
  const minBytes = options.minBytes ?? 1024;
  const large = model.graph.initializers.filter((t) =>
    (t.rawData?.byteLength ?? 0) >= minBytes
  );
  const { file, refs } = writeWeightsFile(folder, large.map((t) => t.rawData!));
  const moved = new Map(large.map((t, i) => [t, refs[i]!]));
  const initializers = model.graph.initializers.map((t): TensorProto => {
    const external = moved.get(t);
    if (!external) return t;
    const { rawData: _, ...rest } = t;
    return { ...rest, external };
  });
  // Copies what is left: one view of the original bytes anywhere (a small
  // initializer, a Constant) would keep all of them.
  return {
    model: { ...model, graph: ownGraph({ ...model.graph, initializers }) },
    file,
  };
}

function ownTensor(t: TensorProto): TensorProto {
  return t.rawData ? { ...t, rawData: t.rawData.slice() } : t;
}

function ownAttribute(a: AttributeProto): AttributeProto {
  const own = { ...a };
  if (a.s) own.s = a.s.slice();
  if (a.t) own.t = ownTensor(a.t);
  if (a.g) own.g = ownGraph(a.g);
  if (a.strings) own.strings = a.strings.map((x) => x.slice());
  if (a.tensors) own.tensors = a.tensors.map(ownTensor);
  if (a.graphs) own.graphs = a.graphs.map(ownGraph);
  return own;
}

function ownGraph(g: GraphProto): GraphProto {
  return {
    ...g,
    initializers: g.initializers.map(ownTensor),
    nodes: g.nodes.map((n) => ({
      ...n,
      attributes: n.attributes.map(ownAttribute),
    })),
  };
}
