/**
 * The layer picker's contents. A Keras model with modern names gets the
 * stage outputs first (`layer1`…`layer4`), then each stage's layers under
 * their modern names (`conv4_block6_out`) with the model's own names beside
 * them, then any layer without a modern name. Any other model (an ONNX
 * export, a Keras model of another family) gets one list: the default
 * layer first, then every layer in the model's order, each under its
 * shortest familiar name (`layer4`, `layer1.0.conv1`). Pure: no DOM.
 *
 * @module
 */

/** A layer as the API describes it. */
export interface LayerEntry {
  name: string;
  aliases: readonly string[];
  shape: readonly number[];
  kind: string;
  explainable: boolean;
}

/** One option of the picker: the layer's own name as value, and its text. */
export interface LayerOption {
  value: string;
  text: string;
}

/** A titled group of options (an `<optgroup>`). */
export interface LayerGroup {
  label: string;
  options: LayerOption[];
}

const STAGE_OUTPUT = /^layer(\d+)$/;
const MODERN = /^(conv|pool)(\d+)_/;

/**
 * The name people know a layer by: its torchvision stage name, else its
 * first modern name, else its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(familiarName({ name: "activation_39", aliases: ["conv4_block6_out", "layer3"] }), "layer3");
 * assert.equal(familiarName({ name: "b_add", aliases: [] }), "b_add");
 * ```
 */
export function familiarName(
  layer: Pick<LayerEntry, "name" | "aliases">,
): string {
  return layer.aliases.find((a) => STAGE_OUTPUT.test(a)) ??
    layer.aliases[0] ?? layer.name;
}

function modernName(layer: LayerEntry): string | undefined {
  return layer.aliases.find((a) => MODERN.test(a));
}

/**
 * A short name for a layer with no alias. PyTorch's exporter names tensors
 * after the module path (`/layer1/layer1.0/Add_output_0`): keep the
 * innermost module and the op (`layer1.0 Add`). Other names stay as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(shortLayerName("/layer1/layer1.0/Add_output_0"), "layer1.0 Add");
 * assert.equal(shortLayerName("b_add"), "b_add");
 * ```
 */
export function shortLayerName(name: string): string {
  const match = /^\/(.+)_output_\d+$/.exec(name);
  if (!match) return name;
  const segments = match[1].split("/");
  const op = segments.pop()!;
  const scope = segments.at(-1);
  return scope ? `${scope} ${op}` : op;
}

/**
 * A layer's name for people: an exported module path
 * (`/layer4/layer4.1/relu_1/Relu_output_0`) as the picker shows it
 * (`layer4`); any other name as it is (Keras names are short and are what
 * the API answers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(layerName({ name: "/layer4/layer4.1/relu_1/Relu_output_0", aliases: ["layer4", "layer4.1"] }), "layer4");
 * assert.equal(layerName({ name: "activation_48", aliases: ["conv5_block3_out", "layer4"] }), "activation_48");
 * ```
 */
export function layerName(layer: Pick<LayerEntry, "name" | "aliases">): string {
  if (shortLayerName(layer.name) === layer.name) return layer.name;
  return layer.aliases.length > 0
    ? familiarName(layer)
    : shortLayerName(layer.name);
}

function withOwnName(alias: string, layer: LayerEntry): string {
  return alias === layer.name ? alias : `${alias} (${layer.name})`;
}

/** One list: the default layer first, then the model's order. */
function flatList(
  layers: readonly LayerEntry[],
  defaultLayer: string,
): LayerGroup[] {
  const ordered = [
    ...layers.filter((l) => l.name === defaultLayer),
    ...layers.filter((l) => l.name !== defaultLayer),
  ];
  if (ordered.length === 0) return [];
  return [{
    label: "Layers (the recommended one first)",
    options: ordered.map((layer) => ({
      value: layer.name,
      text: layer.aliases.length > 0 ? familiarName(layer) : layerName(layer),
    })),
  }];
}

/**
 * Groups the explainable layers for the picker, in the model's order
 * within each group. A model without modern Keras names gets one list,
 * `defaultLayer` first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const layers = [
 *   { name: "activation_48", aliases: ["conv5_block3_out", "layer4"], shape: [7, 7, 2048], kind: "Activation", explainable: true },
 * ];
 * assert.deepEqual(layerGroups(layers)[0], {
 *   label: "Stage outputs",
 *   options: [{ value: "activation_48", text: "layer4 · conv5_block3_out" }],
 * });
 * ```
 */
export function layerGroups(
  layers: readonly LayerEntry[],
  defaultLayer = "",
): LayerGroup[] {
  const explainable = layers.filter((l) => l.explainable);
  if (!explainable.some((l) => modernName(l))) {
    return flatList(explainable, defaultLayer);
  }
  const outputs: { stage: number; option: LayerOption }[] = [];
  const stages = new Map<number, LayerOption[]>();
  const others: LayerOption[] = [];
  for (const layer of explainable) {
    const output = layer.aliases.find((a) => STAGE_OUTPUT.test(a));
    if (output) {
      const block = modernName(layer);
      outputs.push({
        stage: Number(STAGE_OUTPUT.exec(output)![1]),
        option: {
          value: layer.name,
          text: block ? `${output} · ${block}` : withOwnName(output, layer),
        },
      });
    }
    const modern = modernName(layer);
    if (modern) {
      const stage = Number(MODERN.exec(modern)![2]);
      if (!stages.has(stage)) stages.set(stage, []);
      stages.get(stage)!.push({
        value: layer.name,
        text: withOwnName(modern, layer),
      });
    } else if (!output) {
      others.push({ value: layer.name, text: layer.name });
    }
  }
  const groups: LayerGroup[] = [];
  if (outputs.length > 0) {
    groups.push({
      label: "Stage outputs",
      options: outputs.sort((a, b) => a.stage - b.stage).map((o) => o.option),
    });
  }
  for (const stage of [...stages.keys()].sort((a, b) => a - b)) {
    groups.push({
      label: stage === 1
        ? "Stem: conv1, pool1"
        : `Stage conv${stage} (layer${stage - 1}): every block`,
      options: stages.get(stage)!,
    });
  }
  if (others.length > 0) {
    groups.push({ label: "Other layers", options: others });
  }
  return groups;
}

/**
 * One line about a layer for under the picker: its own name, kind, output
 * shape, other names, and whether it is the recommended one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const layer = {
 *   name: "activation_39", aliases: ["conv4_block6_out", "layer3"],
 *   shape: [14, 14, 1024], kind: "Activation", explainable: true,
 * };
 * assert.equal(
 *   describeLayer(layer, "activation_48"),
 *   "activation_39 · Activation · 14×14×1024 · also conv4_block6_out, layer3",
 * );
 * ```
 */
export function describeLayer(
  layer: LayerEntry,
  defaultLayer: string,
): string {
  const parts = [layer.name, layer.kind, layer.shape.join("×")];
  if (layer.aliases.length > 0) parts.push(`also ${layer.aliases.join(", ")}`);
  if (layer.name === defaultLayer) {
    parts.push("recommended: the last stage, where maps show whole objects");
  }
  return parts.join(" · ");
}
