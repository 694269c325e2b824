/**
 * `jobs/explanation/runner.ts` on a real worker pool: a job whose model
 * worker crashes is started again, at most `attempts` times (the server's
 * `--job-attempts`), then fails with MODEL_CRASHED.
 */
import assert from "node:assert/strict";
import { checkExplain } from "../../explain/mod.ts";
import { explanationRunner } from "../../jobs/explanation/mod.ts";
import { encodeBase64 } from "../../lib/base64.ts";
import { ClientError } from "../../lib/errors.ts";
import { modelView } from "../../workers/mod.ts";
import { crashPool } from "../workers/_crash_pool.ts";

Deno.test("explanationRunner: a job whose model worker crashes is started again, at most attempts times, then fails MODEL_CRASHED", async () => {
  const pool = await crashPool(() => {});
  try {
    const { service, registry } = pool;
    const request = checkExplain(
      { model: modelView(await service.describe()), registry },
      {
        methods: ["crash"],
      },
      { maxMethods: 1 },
    );
    const job = { request, image: encodeBase64(pool.png) };
    for (const attempts of [1, 3]) {
      const before = service.stats().workers.restarts.crash ?? 0;
      await assert.rejects(
        explanationRunner(service, { registry, attempts })(job, {
          id: `job-${attempts}`,
          signal: new AbortController().signal,
          onProgress: () => {},
        }),
        (error: unknown) => {
          assert.ok(error instanceof ClientError, String(error));
          assert.equal(error.code, "MODEL_CRASHED");
          return true;
        },
      );
      // One crash per start of the model work.
      assert.equal(
        (service.stats().workers.restarts.crash ?? 0) - before,
        attempts,
      );
    }
    const outcome = await pool.explain("gradcam");
    assert.equal(outcome.methods[0].method, "gradcam");
  } finally {
    await pool.close();
  }
});
