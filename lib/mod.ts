/**
 * Pure helpers every folder may use: images (decode, resize, colour maps,
 * render, PNG), client errors and their codes, base64, NumPy files,
 * Prometheus text, JSON logs, network addresses, seeded noise. No tensors,
 * no model. (The browser bundle imports single files instead: `zlib.ts`,
 * `cpu.ts` and the decoders are server-only.)
 *
 * @example
 * ```ts
 * import { clientError, isClientError } from "./mod.ts";
 * isClientError(clientError("BAD_USER_INPUT", "Bad size")); // true
 * ```
 *
 * @module
 */
export * from "./address.ts";
export * from "./base64.ts";
export * from "./colormap.ts";
export * from "./cpu.ts";
export * from "./deflate.ts";
export * from "./errors.ts";
export * from "./heatmap.ts";
export * from "./image.ts";
export * from "./json.ts";
export * from "./log.ts";
export * from "./npy.ts";
export * from "./png.ts";
export * from "./png_decode.ts";
export * from "./preprocess.ts";
export * from "./prometheus.ts";
export * from "./random.ts";
export * from "./render.ts";
export * from "./render_pool.ts";
export * from "./resize.ts";
export * from "./turns.ts";
export * from "./zlib.ts";
