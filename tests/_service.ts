/**
 * The explanation service over runtimes a test already loaded: in this
 * process (the model work on the test's thread), for API tests that need
 * speed or in-process explainers (gates, broken ones).
 *
 * @module
 */
import { createRegistry, type Registry } from "../explainers/registry.ts";
import { createModelSet, type ModelRuntime } from "../models/mod.ts";
import type { Limits } from "../schema/mod.ts";
import { createLocalService, type ExplainService } from "../workers/mod.ts";

/** Options of {@linkcode serviceOver}. */
export interface ServiceOverOptions {
  /** Loads the randomized copy for `sanityCheck`; none: `UNSUPPORTED_MODEL`. */
  randomized?: () => Promise<ModelRuntime>;
  /** The app's limits the service enforces (queue, passes, pixels). */
  limits?: Partial<Limits>;
}

/**
 * A local service whose one model is `runtime` (never disposed by it).
 *
 * @example
 * ```ts
 * const service = await serviceOver(sharedResNet50(), createRegistry());
 * ```
 */
export async function serviceOver(
  runtime: ModelRuntime | Promise<ModelRuntime>,
  registry: Registry,
  options: ServiceOverOptions = {},
): Promise<ExplainService> {
  const loaded = await runtime;
  const limits = options.limits ?? {};
  const service = createLocalService({
    models: createModelSet([{
      name: loaded.name,
      load: () => Promise.resolve(loaded),
      ...(options.randomized ? { randomized: options.randomized } : {}),
    }]),
    registry,
    ...(limits.maxPixels ? { maxPixels: limits.maxPixels } : {}),
    ...(limits.maxRequestPasses ? { maxPasses: limits.maxRequestPasses } : {}),
    ...(limits.maxQueued !== undefined ? { maxQueued: limits.maxQueued } : {}),
  });
  await service.ready();
  return service;
}

/** A service whose model is still loading, and the test's hands on the load. */
export interface PendingService {
  service: ExplainService;
  /** The load succeeds with `runtime`. */
  resolve(runtime: ModelRuntime): void;
  /** The load fails with `error`. */
  reject(error: Error): void;
}

/**
 * A local service whose one model (`name`) loads when the test says so.
 *
 * @example
 * ```ts
 * const { service, resolve } = pendingService(createRegistry());
 * resolve(await sharedResNet50());
 * ```
 */
export function pendingService(
  registry: Registry,
  name = "resnet50",
): PendingService {
  const load = Promise.withResolvers<ModelRuntime>();
  const service = createLocalService({
    models: createModelSet([{ name, load: () => load.promise }]),
    registry,
  });
  return {
    service,
    resolve: (runtime) => load.resolve(runtime),
    reject: (error) => load.reject(error),
  };
}

/**
 * An app's service and registry while its model is still loading (the
 * built-in methods).
 *
 * @example
 * ```ts
 * const app = createApp(loadingApp());
 * ```
 */
export function loadingApp(): { service: ExplainService; registry: Registry } {
  const registry = createRegistry();
  return { service: pendingService(registry).service, registry };
}
