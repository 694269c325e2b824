/**
 * Layer aliases from the node names PyTorch's exporter writes: a node
 * `/layer4/layer4.1/relu_1/Relu` ran inside module `layer4.1` of module
 * `layer4`, so the last feature map any node of `layer4` produced is what
 * `model.layer4` returns: alias `layer4` (likewise `features.18`,
 * `features.denseblock4`).
 *
 * @module
 */
import type { NodeProto } from "./proto.ts";

/**
 * The module path of each scope of a node name: segments that repeat their
 * parent's name (`layer4.1` under `layer4`) extend it, others are appended
 * (`denseblock4` under `features` → `features.denseblock4`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(modulePaths("/layer4/layer4.1/relu_1/Relu"), ["layer4", "layer4.1", "layer4.1.relu_1"]);
 * assert.deepEqual(modulePaths("/features/denseblock4/Concat"), ["features", "features.denseblock4"]);
 * assert.deepEqual(modulePaths("Relu_12"), []); // not an exporter's path
 * ```
 */
export function modulePaths(nodeName: string): string[] {
  if (!nodeName.startsWith("/")) return [];
  const segments = nodeName.split("/").slice(1, -1);
  const paths: string[] = [];
  segments.forEach((seg, d) => {
    if (d === 0) paths.push(seg);
    else if (seg.startsWith(`${segments[d - 1]}.`)) {
      paths.push(paths[d - 1] + seg.slice(segments[d - 1].length));
    } else paths.push(`${paths[d - 1]}.${seg}`);
  });
  return paths.filter((p) => p !== "");
}

/**
 * Aliases per tensor: every module path whose last feature map (a tensor
 * for which `spatial` holds, in node order) it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeModel } from "./_decode.ts";
 * // A tiny torchvision ResNet-18; its node names are module paths.
 * const model = decodeModel(await Deno.readFile("tests/fixtures/onnx/resnet18.onnx"));
 * const spatial = (tensor: string) => tensor.startsWith("/layer"); // the stages' feature maps
 * const aliases = torchAliases(model.graph.nodes, spatial);
 * assert.deepEqual(aliases.get("/layer4/layer4.1/relu_1/Relu_output_0"), [
 *   "layer4",
 *   "layer4.1",
 *   "layer4.1.relu_1",
 * ]);
 * ```
 */
export function torchAliases(
  nodes: readonly NodeProto[],
  spatial: (tensor: string) => boolean,
): Map<string, string[]> {
  const last = new Map<string, string>();
  for (const node of nodes) {
    const out = node.outputs[0];
    if (!out || !spatial(out)) continue;
    for (const path of modulePaths(node.name)) last.set(path, out);
  }
  const aliases = new Map<string, string[]>();
  for (const [path, tensor] of last) {
    aliases.set(tensor, [...(aliases.get(tensor) ?? []), path]);
  }
  return aliases;
}
