import { xGradCamExplainer } from "../../explainers/xgrad_cam.ts";
import { assertClose, nested, syntheticContext } from "./_synthetic.ts";

Deno.test("xgradcam equals its formula written with plain loops", async () => {
  const ctx = syntheticContext(3, 4, 5);
  const { A, G } = nested(ctx);
  const w: number[] = [];
  for (let k = 0; k < 5; k++) {
    let ga = 0;
    let a = 0;
    for (let p = 0; p < A.length; p++) {
      ga += G[p][k] * A[p][k];
      a += A[p][k];
    }
    w.push(ga / (a + 1e-7));
  }
  const expected = A.map((row) => row.reduce((s, a, k) => s + w[k] * a, 0));
  assertClose((await xGradCamExplainer().explain(ctx, {})).values, expected);
});
