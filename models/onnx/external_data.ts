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
import { encodeModel, type ModelProto, type TensorProto } from "./proto.ts";

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
}

/** Options of {@linkcode encodeSessionModel}. */
export interface EncodeSessionOptions {
  /** Initializers at least this large go external; @default 1024 */
  minBytes?: number | undefined;
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
  const minBytes = options.minBytes ?? 1024;
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
  return { bytes, files: [...files.values()] };
}
