import assert from "node:assert/strict";
import { parseBenchFlags } from "../../../tools/bench/options.ts";

Deno.test("--quick takes few runs and leaves full Score-CAM out, saying why", () => {
  const quick = parseBenchFlags(["--quick"]);
  assert.equal(quick.runs, 3);
  assert.equal(quick.rounds, 1);
  assert.equal(quick.slowRuns, 1);
  assert.equal(quick.skip.get("full-scorecam"), "--quick");
  const full = parseBenchFlags([]);
  assert.equal(full.runs, 10);
  assert.equal(full.rounds, 3);
  assert.equal(full.skip.size, 0);
  assert.equal(full.out, "BENCHMARKS.md");
});

Deno.test("explicit counts win over --quick; --skip is repeatable", () => {
  const o = parseBenchFlags([
    "--quick",
    "--runs",
    "5",
    "--skip",
    "torch",
    "--skip",
    "memory",
    "--out",
    "/tmp/b.md",
  ]);
  assert.equal(o.runs, 5);
  assert.deepEqual([...o.skip.keys()].sort(), [
    "full-scorecam",
    "memory",
    "torch",
  ]);
  assert.equal(o.out, "/tmp/b.md");
});

Deno.test("an unknown section or a bad count is refused, naming what is valid", () => {
  assert.throws(
    () => parseBenchFlags(["--skip", "gpu"]),
    /Unknown section "gpu": valid sections are "forward", /,
  );
  assert.throws(
    () => parseBenchFlags(["--runs", "0"]),
    /--runs must be a positive integer, got "0"/,
  );
});
