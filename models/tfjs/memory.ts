/**
 * What TF.js holds in memory, as plain numbers for metrics and leak checks
 * (so that code outside `models/` never imports TF.js for it).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Live tensors and the bytes they hold, on the active backend. */
export interface TensorMemory {
  /** Tensors not yet disposed. */
  tensors: number;
  /** Bytes those tensors hold. */
  bytes: number;
}

/**
 * Reads `tf.memory()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { selectBackend } from "./backend.ts";
 * await selectBackend("cpu");
 * const before = tensorMemory().tensors; // a leak check: await runtime.run(input) between
 * const t = tf.ones([2, 2]);
 * assert.deepEqual(tensorMemory(), { tensors: before + 1, bytes: tensorMemory().bytes });
 * t.dispose();
 * assert.equal(tensorMemory().tensors, before);
 * ```
 */
export function tensorMemory(): TensorMemory {
  // Until a TF.js model loads no backend is chosen, and tf.memory() would
  // try to start the first registered one (WebGPU, which may have no
  // adapter): a process serving only ONNX models holds no tensors.
  if (!tf.engine().backendName) return { tensors: 0, bytes: 0 };
  const { numTensors, numBytes } = tf.memory();
  return { tensors: numTensors, bytes: numBytes };
}
