/**
 * The layers users can pick, and the names they know them by: the model's own
 * names, the modern Keras ResNet names (`conv5_block3_out`) and the
 * torchvision stage names (`layer4`), both derived from the graph's residual
 * structure rather than typed by hand.
 *
 * @module
 */
import { clientError } from "../lib/errors.ts";
import type { GraphSource, LayerRecord } from "./graph.ts";

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

/**
 * Derives ResNet aliases from the graph: every `Add` closes a block; walking
 * back from its two inputs to the block input separates the main branch (its
 * convolutions numbered 1, 2, 3…) from the shortcut (`_0_`); a shortcut with a
 * convolution opens a new stage. The stem gets `conv1_*` and `pool1_*`.
 */
export function resnetAliases(source: GraphSource): Map<string, string[]> {
  const aliases = new Map<string, string[]>();
  const add = (layer: string, alias: string) => {
    if (alias === layer) return;
    aliases.set(layer, [...(aliases.get(layer) ?? []), alias]);
  };
  const rec = (name: string): LayerRecord => source.records.get(name)!;
  const adds = source.order.filter((n) => rec(n).className === "Add");
  if (adds.length === 0) return aliases;

  // Walks single-input links back from `from` until `stop`; null if it can't.
  const branch = (from: string, stop: string): string[] | null => {
    const path: string[] = [];
    let at = from;
    while (at !== stop) {
      const r = rec(at);
      if (r.inputs.length !== 1 || path.length > 64) return null;
      path.unshift(at);
      at = r.inputs[0];
    }
    return path;
  };
  // The first block's input: the nearest common ancestor of its Add's inputs.
  const ancestors = (name: string): string[] => {
    const out: string[] = [];
    for (let at: string | undefined = name; at; at = rec(at).inputs[0]) {
      out.push(at);
      if (rec(at).inputs.length !== 1) break;
    }
    return out;
  };
  const [a0, b0] = rec(adds[0]).inputs;
  const fromB = new Set(ancestors(b0));
  let blockInput = ancestors(a0).find((n) => fromB.has(n));
  if (!blockInput) return new Map();

  // Stem: everything up to the first block input.
  const stemNames: Record<string, string[]> = {
    ZeroPadding2D: ["conv1_pad", "pool1_pad"],
    Conv2D: ["conv1_conv"],
    BatchNormalization: ["conv1_bn"],
    Activation: ["conv1_relu"],
    ReLU: ["conv1_relu"],
    MaxPooling2D: ["pool1_pool"],
  };
  const used = new Map<string, number>();
  for (const name of branch(blockInput, source.input) ?? []) {
    const kind = rec(name).className;
    const i = used.get(kind) ?? 0;
    const alias = stemNames[kind]?.[i];
    if (alias) add(name, alias);
    used.set(kind, i + 1);
  }

  let stage = 1;
  let block = 0;
  for (const addName of adds) {
    const [x, y] = rec(addName).inputs;
    const bx = branch(x, blockInput);
    const by = branch(y, blockInput);
    if (!bx || !by) return new Map();
    const [main, shortcut] = bx.length >= by.length ? [bx, by] : [by, bx];
    const projection = shortcut.some((n) => rec(n).className === "Conv2D");
    if (projection || stage === 1) {
      stage++;
      block = 0;
    }
    block++;
    const prefix = `conv${stage}_block${block}`;
    const nameBranch = (layers: string[], first: number) => {
      let conv = first - 1;
      for (const name of layers) {
        const kind = rec(name).className;
        if (kind === "Conv2D") conv++;
        const suffix = kind === "Conv2D"
          ? "conv"
          : kind === "BatchNormalization"
          ? "bn"
          : kind === "Activation" || kind === "ReLU"
          ? "relu"
          : null;
        if (suffix && conv >= first) add(name, `${prefix}_${conv}_${suffix}`);
      }
    };
    nameBranch(main, 1);
    nameBranch(shortcut, 0);
    add(addName, `${prefix}_add`);
    const after = rec(addName).consumers;
    const out = after.length === 1 &&
        ["Activation", "ReLU"].includes(rec(after[0]).className)
      ? after[0]
      : addName;
    add(out, `${prefix}_out`);
    blockInput = out;
    // torchvision names each stage's output layerN; later blocks overwrite.
    for (const [layer, names] of aliases) {
      const kept = names.filter((n) => n !== `layer${stage - 1}`);
      if (kept.length !== names.length) aliases.set(layer, kept);
    }
    add(out, `layer${stage - 1}`);
  }
  return aliases;
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
 * const catalog = layerCatalog(describeModel(model));
 * catalog.resolve("layer4").name; // "activation_48" on the shipped ResNet-50
 * ```
 */
export function layerCatalog(source: GraphSource): LayerCatalog {
  const aliases = resnetAliases(source);
  const layers: LayerInfo[] = source.order.map((name) => {
    const r = source.records.get(name)!;
    const raw = r.layer.outputShape;
    const shape = (Array.isArray(raw[0]) ? raw[0] : raw) as (number | null)[];
    return {
      name,
      shape: shape.slice(1).map((d) => d ?? -1),
      kind: r.className,
      aliases: aliases.get(name) ?? [],
      explainable: shape.length === 4 && name !== source.input,
    };
  });
  const explainable = layers.filter((l) => l.explainable);
  if (explainable.length === 0) {
    throw new Error("Unsupported model: it has no layer with a 4-D output");
  }
  const defaultLayer = explainable[explainable.length - 1].name;
  const byName = new Map<string, LayerInfo>();
  for (const l of layers) {
    for (const n of [l.name, ...l.aliases]) byName.set(n.toLowerCase(), l);
  }
  return {
    layers,
    defaultLayer,
    resolve(name) {
      if (name === undefined || name === null || name === "") {
        return byName.get(defaultLayer.toLowerCase())!;
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
