import { layerCamExplainer } from "../../explainers/layer_cam.ts";
import { assertClose, nested, syntheticContext } from "./_synthetic.ts";

Deno.test("layercam equals Σ_k ReLU(G_k) ⊙ A_k written with plain loops", async () => {
  const ctx = syntheticContext(3, 4, 5);
  const { A, G } = nested(ctx);
  const expected = A.map((row, p) =>
    row.reduce((sum, a, k) => sum + Math.max(0, G[p][k]) * a, 0)
  );
  assertClose((await layerCamExplainer().explain(ctx, {})).values, expected);
});
