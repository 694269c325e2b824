/**
 * Helpers for the reliability tests: the tiny 32×32 network as the model
 * (fast: thousands of requests take seconds), small PNGs, an explainer the
 * test holds at a gate, and polling.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { activationExplainer } from "../../explainers/activation.ts";
import { gradCamExplainer } from "../../explainers/grad_cam.ts";
import { createRegistry } from "../../explainers/registry.ts";
import type { Explainer } from "../../explainers/types.ts";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import {
  type ArtifactsLoader,
  type ModelRuntime,
  randomizedRuntime,
} from "../../models/mod.ts";
import { type App, createApp } from "../../server/mod.ts";
import { inMemoryHandler, tinyResNet, tinyRuntime } from "../_shared.ts";
import { serviceOver } from "../_service.ts";
import type { TestAppOptions } from "./_helpers.ts";

let tiny: Promise<ModelRuntime> | null = null;

/** The tiny network on WASM, loaded once per test file. */
export function sharedTiny(): Promise<ModelRuntime> {
  tiny ??= tinyRuntime("wasm");
  return tiny;
}

let tinyHandler: Promise<tf.io.IOHandler> | null = null;

/**
 * The tiny network's topology and weights (the same seeded weights as
 * {@linkcode sharedTiny}), for `sanityCheck`'s randomized copy.
 */
export const tinyArtifacts: ArtifactsLoader = async () => {
  await sharedTiny(); // builds the weights on the backend under test
  tinyHandler ??= (async () => {
    const model = tinyResNet();
    try {
      return await inMemoryHandler(model);
    } finally {
      model.dispose();
    }
  })();
  return (await tinyHandler).load!();
};

/** A `size`×`size` PNG, different for each `seed`, as base64. */
export async function tinyPng(seed: number, size = 32): Promise<string> {
  const data = new Uint8Array(size * size * 3);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return encodeBase64(await encodePng({ width: size, height: size, data }));
}

/** An explainer that waits at a gate the test opens; it honours aborts. */
export interface Gate {
  explainer: Explainer;
  /** How many times `explain` was entered. */
  readonly calls: number;
  /** Lets every waiting and future call through. */
  open(): void;
}

/**
 * A gate explainer named `name`. While it waits it holds a tensor, which it
 * frees however it ends (so leak checks see abandoned work cleaned up).
 * With `ignoreAbort` it waits for the gate whatever happens, like a step
 * that cannot be interrupted.
 */
export function gateExplainer(
  name = "gate",
  options: { ignoreAbort?: boolean } = {},
): Gate {
  const gate = Promise.withResolvers<void>();
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    open: () => gate.resolve(),
    explainer: {
      name,
      description: "Waits until the test opens the gate",
      needsGradients: false,
      parseParams: () => ({}),
      async explain({ signal }) {
        calls++;
        const held = tf.zeros([64, 64]);
        try {
          await new Promise<void>((resolve, reject) => {
            gate.promise.then(resolve);
            if (options.ignoreAbort) return;
            signal?.addEventListener("abort", () => reject(signal.reason), {
              once: true,
            });
            if (signal?.aborted) reject(signal.reason);
          });
          return { width: 2, height: 2, values: new Float32Array(4).fill(1) };
        } finally {
          held.dispose();
        }
      },
    },
  };
}

/**
 * An app on the tiny network with activation, gradcam and `extra`, and its
 * artifacts for `sanityCheck`.
 */
export async function tinyApp(
  extra: Explainer[] = [],
  options: TestAppOptions & {
    /** The sanity check's model artifacts; null: none. @default the tiny network's */
    artifacts?: ArtifactsLoader | null;
  } = {},
): Promise<{ app: App; runtime: ModelRuntime }> {
  const { artifacts = tinyArtifacts, ...appOptions } = options;
  const runtime = await sharedTiny();
  const registry = createRegistry([
    activationExplainer(),
    gradCamExplainer(),
    ...extra,
  ]);
  const service = await serviceOver(runtime, registry, {
    ...(artifacts
      ? {
        randomized: () =>
          randomizedRuntime(artifacts, {
            labels: runtime.labels,
            preprocessing: runtime.preprocessing,
            backend: runtime.backend.name,
          }),
      }
      : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const app = createApp({ service, registry, ...appOptions });
  return { app, runtime };
}

/** Polls `condition` every 5 ms until it holds; throws after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An explain query for `method` on `$b`. */
/** An explainer that always throws an unexpected (non-client) error. */
export const brokenExplainer: Explainer = {
  name: "broken",
  description: "Always fails",
  needsGradients: false,
  parseParams: () => ({}),
  explain() {
    throw new Error("secret internal detail");
  },
};

export const EXPLAIN_QUERY = (method: string) =>
  `query($b: String!) { explain(image: { base64: $b }, method: "${method}") { label map { width height } } }`;
