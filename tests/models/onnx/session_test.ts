import assert from "node:assert/strict";
import process from "node:process";
import {
  createSession,
  loadOrt,
  sessionOptions,
} from "../../../models/onnx/session.ts";

/** CPU time of this process so far, ms (all threads). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

Deno.test("session threads stop spinning when a run returns: the cores are free for what comes next", async () => {
  const ort = await loadOrt();
  const bytes = await Deno.readFile("tests/fixtures/onnx/resnet18.onnx");
  const handle = await createSession(ort, bytes, { threads: 2 });
  const x = new ort.Tensor("float32", new Float32Array(64 * 64 * 3), [
    1,
    3,
    64,
    64,
  ]);
  try {
    const after: number[] = [];
    for (let i = 0; i < 7; i++) {
      const out = await handle.use((run) => run({ input: x }, ["logits"]));
      Object.values(out).forEach((t) => t.dispose());
      const start = cpuMs();
      await new Promise((r) => setTimeout(r, 100));
      after.push(cpuMs() - start);
    }
    // ONNX Runtime's default (spinning on, no stop) burns tens of ms of CPU
    // in the 100 ms after each run; stopped threads use ~none.
    assert.ok(median(after) < 8, `CPU after a run: ${after.join(", ")} ms`);
  } finally {
    handle.release();
  }
});

Deno.test("session options: spinning within a run, stopped after it, no arena", () => {
  const options = sessionOptions({ threads: 2 });
  assert.deepEqual(options.extra, {
    session: {
      intra_op: { allow_spinning: "1" },
      inter_op: { allow_spinning: "1" },
      force_spinning_stop: "1",
    },
  });
  assert.equal(options.enableCpuMemArena, false);
  assert.equal(options.graphOptimizationLevel, "all");
});
