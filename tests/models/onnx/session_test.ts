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

Deno.test("session options: spinning within a run, stopped after it, the memory arena on", () => {
  const options = sessionOptions({ threads: 2 });
  assert.deepEqual(options.extra, {
    session: {
      intra_op: { allow_spinning: "1" },
      inter_op: { allow_spinning: "1" },
      force_spinning_stop: "1",
    },
  });
  assert.equal(options.enableCpuMemArena, true);
  assert.equal(options.graphOptimizationLevel, "all");
});

/** Page faults of one warm run in a child whose glibc returns every freed buffer. */
async function faultsPerRun(mode: "arena" | "no-arena"): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-env",
      "--allow-ffi=node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/",
      "tests/models/onnx/_faults_child.ts",
      mode,
    ],
    env: { GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=4096" },
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return Number(text);
}

Deno.test("warm runs reuse their buffers: no fresh pages per run even where glibc hands every freed buffer back", async () => {
  const [kept, returned] = await Promise.all([
    faultsPerRun("arena"),
    faultsPerRun("no-arena"),
  ]);
  // Without the arena each run takes its buffers' pages again (~26 here);
  // a run of ResNet-50 that way took ~1900 and 38 ms instead of 23.
  assert.ok(returned > 10, `without the arena: ${returned} faults per run`);
  assert.ok(kept < 5, `Lumen's options: ${kept} faults per run`);
});
