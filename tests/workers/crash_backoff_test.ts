/**
 * `workers/pool.ts`: a worker that keeps crashing is restarted later and
 * later (not in a tight loop), every crash answers MODEL_CRASHED, and a
 * call after the crashes still works. Real worker processes on the tiny
 * network; the crash is a plugin that exits its process.
 */
import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { crashPool } from "./_crash_pool.ts";

Deno.test("a worker crashing again and again is restarted after growing delays; MODEL_CRASHED each time, then calls work", async () => {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = (_level, msg, fields) =>
    lines.push({ msg, fields: fields ?? {} });
  const pool = await crashPool(log);
  try {
    // Crashes less than 10 s apart count as a run of crashes (a worker
    // starts in a few seconds even on a busy machine).
    for (let i = 0; i < 3; i++) {
      await assert.rejects(pool.explain("crash"), (error: unknown) => {
        assert.ok(error instanceof ClientError, String(error));
        assert.equal(error.code, "MODEL_CRASHED");
        return true;
      });
    }
    const outcome = await pool.explain("gradcam");
    assert.equal(outcome.methods[0].method, "gradcam");
    const delays = lines
      .filter((l) => l.msg === "model worker replaced")
      .map((l) => {
        assert.equal(l.fields.reason, "crash");
        return l.fields.delayMs;
      });
    assert.deepEqual(delays, [0, 500, 1000]);
    assert.equal(pool.service.stats().workers.restarts.crash, 3);
  } finally {
    await pool.close();
  }
});
