/**
 * A 2-D convolution (with optional bias and ReLU) whose gradient with respect
 * to its input is an ordinary forward convolution where possible.
 *
 * The WASM backend registers no `Conv2DBackpropFilter` (which TF.js' fused
 * convolution gradient always asks for) and its `Conv2DBackpropInput` is a
 * slow naive loop, so explainers would either fail or crawl there. Weights
 * are constants here, so only the input gradient is ever computed.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** What defines one convolution node. */
export interface ConvSpec {
  /** Kernel `[kh, kw, inChannels, outChannels]`. */
  kernel: tf.Tensor4D;
  /** Per-output-channel bias, or `null`. */
  bias: tf.Tensor1D | null;
  strides: [number, number];
  padding: "same" | "valid";
  dilations: [number, number];
  /** Whether a ReLU follows (fused into the same kernel). */
  relu: boolean;
}

/** A convolution as a function of its input, differentiable in that input. */
export type ConvFn = (x: tf.Tensor4D) => tf.Tensor4D;

/**
 * Builds the differentiable convolution for `spec`. The transposed kernels
 * its gradient needs are made on first use, once, and kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { selectBackend } from "./backend.ts";
 * await selectBackend("cpu");
 * const kernel = tf.ones([3, 3, 1, 1]) as tf.Tensor4D; // sums each 3×3 window
 * const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
 * const conv = convolution({ kernel, bias: null, strides: [1, 1],
 *   padding: "same", dilations: [1, 1], relu: true });
 * const y = conv(x);
 * assert.deepEqual(Array.from(await y.data()).slice(0, 4), [4, 6, 6, 4]); // the first row
 * // d(sum of y)/dx (dy of ones): how many windows see each pixel, through a
 * // forward convolution.
 * const dx = tf.grad((input: tf.Tensor) => conv(input as tf.Tensor4D))(x);
 * assert.deepEqual(Array.from(await dx.data()).slice(0, 4), [4, 6, 6, 4]);
 * tf.dispose([kernel, x, y, dx]);
 * ```
 */
export function convolution(spec: ConvSpec): ConvFn {
  let inputGrad: ((dy: tf.Tensor4D, x: tf.Tensor4D) => tf.Tensor4D) | null =
    null;
  const differentiable = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((x: tf.Tensor4D, save: tf.GradSaveFunc): any => {
      const y = fusedKernel(x, spec);
      save([x, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
          const [xs, ys] = saved as tf.Tensor4D[];
          const g = spec.relu ? tf.mul(dy, tf.step(ys)) as tf.Tensor4D : dy;
          inputGrad ??= makeInputGradient(spec);
          return inputGrad(g, xs);
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return (x) => differentiable(x) as tf.Tensor4D;
}

/**
 * The backend's fused convolution kernel, called directly rather than through
 * `tf.fused.conv2d`: under `tf.grad` that op quietly runs a convolution with a
 * ReLU as three ops (conv, bias add, ReLU), which round differently from the
 * fused kernel of a plain pass. A gradient pass then differentiates another
 * forward than the one whose logits and activations it is paired with, and a
 * pre-activation within rounding of zero can land on the other side of its
 * ReLU, switching the gradient through that unit on or off (on WASM, where
 * XNNPACK starts its sums at the bias: up to 7e-4 of the gradient's largest
 * value inside ResNet-50's stage 4, 8e-3 at the input, on chelsea.png). The
 * three ops are also a little slower. Our gradient needs nothing from the
 * op's own tape.
 */
function fusedKernel(x: tf.Tensor4D, spec: ConvSpec): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = { x, filter: spec.kernel };
  if (spec.bias) inputs.bias = spec.bias;
  return tf.engine().runKernel(tf.FusedConv2D, inputs, {
    strides: spec.strides,
    pad: spec.padding,
    dataFormat: "NHWC",
    dilations: spec.dilations,
    activation: spec.relu ? "relu" : "linear",
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * d(loss)/dx given d(loss)/dy, for the convolution `spec`.
 * - stride 1, odd kernel, "same": a "same" convolution of dy with the kernel
 *   flipped in space and with its channel axes swapped;
 * - 1×1 kernel, "valid", any stride: a 1×1 convolution with the transposed
 *   kernel, then zeros between the rows and columns (stride > 1);
 * - anything else: TF.js' `conv2dTranspose`.
 */
function makeInputGradient(
  spec: ConvSpec,
): (dy: tf.Tensor4D, x: tf.Tensor4D) => tf.Tensor4D {
  const [kh, kw] = spec.kernel.shape;
  const [sh, sw] = spec.strides;
  const dilated = spec.dilations[0] !== 1 || spec.dilations[1] !== 1;
  if (
    !dilated && sh === 1 && sw === 1 && kh % 2 === 1 && kw % 2 === 1 &&
    (spec.padding === "same" || (kh === 1 && kw === 1))
  ) {
    const flipped = tf.keep(
      tf.tidy(() =>
        tf.transpose(tf.reverse(spec.kernel, [0, 1]), [0, 1, 3, 2])
      ),
    ) as tf.Tensor4D;
    return (dy) => tf.conv2d(dy, flipped, 1, "same");
  }
  if (!dilated && kh === 1 && kw === 1 && spec.padding === "valid") {
    const transposed = tf.keep(
      tf.transpose(spec.kernel, [0, 1, 3, 2]),
    ) as tf.Tensor4D;
    return (dy, x) =>
      tf.tidy(() => {
        const [n, oh, ow] = dy.shape;
        const [, h, w, c] = x.shape;
        const g = tf.conv2d(dy, transposed, 1, "valid");
        // Interleave zeros: each output pixel came from input (i·sh, j·sw).
        const spread = tf.pad(
          tf.reshape(g, [n, oh, 1, ow, 1, c]),
          [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        );
        const full = tf.reshape(spread, [n, oh * sh, ow * sw, c]);
        const cropped = tf.slice(full, [0, 0, 0, 0], [
          n,
          Math.min(h, oh * sh),
          Math.min(w, ow * sw),
          c,
        ]);
        return tf.pad(cropped, [
          [0, 0],
          [0, h - cropped.shape[1]!],
          [0, w - cropped.shape[2]!],
          [0, 0],
        ]) as tf.Tensor4D;
      });
  }
  if (dilated) {
    throw new Error(
      "Gradients through dilated convolutions are not supported by TF.js",
    );
  }
  return (dy, x) =>
    tf.conv2dTranspose(
      dy,
      spec.kernel,
      x.shape as [number, number, number, number],
      spec.strides,
      spec.padding,
    );
}
