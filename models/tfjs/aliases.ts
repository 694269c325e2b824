/**
 * ResNet layer aliases for a TF.js layers model: the modern Keras names
 * (`conv5_block3_out`) and the torchvision stage names (`layer4`), derived
 * from the graph's residual structure rather than typed by hand.
 *
 * @module
 */
import type { GraphSource, LayerRecord } from "./graph.ts";

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
