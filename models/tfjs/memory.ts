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
 * const before = tensorMemory().tensors;
 * await runtime.run(input);
 * tensorMemory().tensors === before; // true once the pass cache is cleared
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
