/**
 * An example third-party explainer: a class-agnostic centre prior, useful as
 * a baseline ("does my method beat 'the object is in the middle'?").
 *
 * Load it into a running server with
 * `deno task serve --plugin explainers/examples/center_bias.ts`, or register
 * it in code: `createRegistry([...builtinExplainers(), centerBias])`.
 *
 * @module
 */
import { clientError } from "../../lib/mod.ts";
import type { Explainer } from "../types.ts";

/** Options: how wide the Gaussian is, as a fraction of the map size. */
export interface CenterBiasParams {
  sigma: number;
}

/** A Gaussian bump at the centre of the layer's grid. */
const centerBias: Explainer<CenterBiasParams> = {
  name: "centerbias",
  description: "Baseline: a Gaussian at the image centre, ignoring the model",
  needsGradients: false,
  parseParams(raw) {
    const sigma = (raw as { sigma?: unknown } | undefined)?.sigma ?? 0.25;
    if (typeof sigma !== "number" || !(sigma > 0 && sigma <= 10)) {
      throw clientError(
        "BAD_USER_INPUT",
        `centerbias: sigma must be a number in (0, 10], got ${
          JSON.stringify(sigma)
        }`,
      );
    }
    return { sigma };
  },
  explain({ pass }, { sigma }) {
    const { width, height } = pass.activations!;
    const values = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = (x + 0.5) / width - 0.5;
        const dy = (y + 0.5) / height - 0.5;
        values[y * width + x] = Math.exp(
          -(dx * dx + dy * dy) / (2 * sigma ** 2),
        );
      }
    }
    return { width, height, values };
  },
};

export default centerBias;
