/**
 * The layers users can pick, and the names they know them by: the model's
 * own names plus the aliases its engine derived (modern Keras ResNet names
 * such as `conv5_block3_out`, torchvision stage names such as `layer4`).
 * Engine-agnostic: built from the engine's {@linkcode GraphLayer} list.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import type { GraphLayer } from "./engine.ts";

/** One layer as shown to users. */
export interface LayerInfo {
  name: string;
  /** Output shape without the batch axis, e.g. `[7, 7, 2048]`. */
  shape: number[];
  /** The Keras class, e.g. `Conv2D`. */
  kind: string;
  /** Other names accepted for this layer. */
  aliases: string[];
  /** Whether explanations can use it (4-D output: batch, height, width, channels). */
  explainable: boolean;
}

/** All layers of a model, with name and alias lookup. */
export interface LayerCatalog {
  readonly layers: readonly LayerInfo[];
  /** The last 4-D layer: the final stage output of a CNN. */
  readonly defaultLayer: string;
  /**
   * The layer for a name or alias (case-insensitive), or the default layer.
   * Throws `UNKNOWN_LAYER` / `UNSUPPORTED_LAYER` client errors.
   */
  resolve(name?: string | null): LayerInfo;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(
        row[j] + 1,
        row[j - 1] + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * Lists a model's layers with their shapes and aliases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // engine.layers of the shipped ResNet-50, in short:
 * const layers = [
 *   { name: "activation_45", kind: "Activation", shape: [7, 7, 2048], aliases: ["conv5_block2_out"], spatial: true },
 *   { name: "activation_48", kind: "Activation", shape: [7, 7, 2048], aliases: ["conv5_block3_out", "layer4"], spatial: true },
 *   { name: "fc1000", kind: "Dense", shape: [1000], aliases: [], spatial: false },
 * ];
 * const catalog = layerCatalog(layers, "activation_48"); // engine.defaultLayer
 * assert.equal(catalog.resolve("layer4").name, "activation_48");
 * assert.equal(catalog.resolve(null).name, "activation_48"); // the default
 * assert.throws(() => catalog.resolve("layer5"), { code: "UNKNOWN_LAYER" });
 * assert.throws(() => catalog.resolve("fc1000"), { code: "UNSUPPORTED_LAYER" }); // not a feature map
 * ```
 */
export function layerCatalog(
  graph: readonly Pick<
    GraphLayer,
    "name" | "kind" | "shape" | "aliases" | "spatial"
  >[],
  defaultLayer: string,
): LayerCatalog {
  const layers: LayerInfo[] = graph.map((l) => ({
    name: l.name,
    shape: [...l.shape],
    kind: l.kind,
    aliases: [...l.aliases],
    explainable: l.spatial,
  }));
  if (!layers.some((l) => l.name === defaultLayer && l.explainable)) {
    throw new Error(
      `Default layer "${defaultLayer}" is not a layer with a 4-D output`,
    );
  }
  const byName = new Map<string, LayerInfo>();
  for (const l of layers) {
    for (const n of [l.name, ...l.aliases]) byName.set(n.toLowerCase(), l);
  }
  return {
    layers,
    defaultLayer,
    resolve(name) {
      if (name === undefined || name === null) {
        return byName.get(defaultLayer.toLowerCase())!;
      }
      if (name.trim() === "") {
        throw clientError(
          "BAD_USER_INPUT",
          `layer is empty: give a layer name or alias, or leave it out for the default "${defaultLayer}"`,
        );
      }
      const found = byName.get(name.toLowerCase());
      if (!found) {
        const closest = [...byName.keys()]
          .map((n) => [n, editDistance(name.toLowerCase(), n)] as const)
          .sort((a, b) => a[1] - b[1])
          .slice(0, 5)
          .map(([n]) =>
            `"${
              byName.get(n)!.aliases.find((a) => a.toLowerCase() === n) ??
                byName.get(n)!.name
            }"`
          );
        throw clientError(
          "UNKNOWN_LAYER",
          `Unknown layer "${name}": closest layers are ${closest.join(", ")}` +
            ` (default "${defaultLayer}"; query model { layers { name aliases } } for all)`,
          { closest: closest.map((c) => c.slice(1, -1)) },
        );
      }
      if (!found.explainable) {
        throw clientError(
          "UNSUPPORTED_LAYER",
          `Layer "${name}" has output shape [${found.shape}]: explanations need a layer with a 4-D output (batch, height, width, channels), such as "${defaultLayer}"`,
        );
      }
      return found;
    },
  };
}
