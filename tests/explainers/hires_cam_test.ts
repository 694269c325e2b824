import { hiResCamExplainer } from "../../explainers/hires_cam.ts";
import { assertClose, nested, syntheticContext } from "./_synthetic.ts";

Deno.test("hirescam equals Σ_k G_k ⊙ A_k written with plain loops", async () => {
  const ctx = syntheticContext(3, 4, 5);
  const { A, G } = nested(ctx);
  const expected = A.map((row, p) =>
    row.reduce((sum, a, k) => sum + G[p][k] * a, 0)
  );
  assertClose((await hiResCamExplainer().explain(ctx, {})).values, expected);
});
