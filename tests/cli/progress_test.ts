import assert from "node:assert/strict";
import { createProgress, formatProgress } from "../../cli/progress.ts";

Deno.test("formatProgress: bar, percentage, steps and label", () => {
  assert.equal(
    formatProgress(0, 4, { label: "a.png", width: 8 }),
    "[--------]   0% 0/4 a.png",
  );
  assert.equal(
    formatProgress(1.5, 4, { label: "a.png · gradcam", width: 8 }),
    "[###-----]  37% 1/4 a.png · gradcam",
  );
  assert.equal(
    formatProgress(4, 4, { label: "", width: 8 }),
    "[########] 100% 4/4",
  );
  assert.equal(
    formatProgress(0, 0, { label: "", width: 4 }),
    "[####] 100% 0/0",
  );
});

Deno.test("createProgress: redraws in place, throttled within a step", () => {
  let t = 0;
  const out: string[] = [];
  const bar = createProgress({
    write: (s) => out.push(s),
    total: 2,
    now: () => t,
    intervalMs: 100,
  });
  bar.update(0, "a", 0.1);
  t = 50;
  bar.update(0, "a", 0.2); // throttled
  t = 60;
  bar.update(1, "b"); // a new step always redraws
  t = 300;
  bar.update(1, "b", 0.5);
  bar.clear();
  bar.clear(); // nothing shown: nothing to erase
  assert.deepEqual(out, [
    "\r[#-----------------------]   5% 0/2 a\x1b[K",
    "\r[############------------]  50% 1/2 b\x1b[K",
    "\r[##################------]  75% 1/2 b\x1b[K",
    "\r\x1b[K",
  ]);
});
