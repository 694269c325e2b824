import assert from "node:assert/strict";

async function probe(threads: number) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      new URL("./_threads_probe.ts", import.meta.url).pathname,
      String(threads),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(text.trim().split("\n").pop()!) as {
    threads: number;
    maps: Record<string, number[]>;
  };
}

Deno.test("threaded and single-threaded WASM give the same maps within 1e-5", async () => {
  const [one, two] = await Promise.all([probe(1), probe(2)]);
  assert.equal(one.threads, 1);
  assert.equal(two.threads, 2);
  assert.deepEqual(Object.keys(two.maps), Object.keys(one.maps));
  for (const [key, values] of Object.entries(one.maps)) {
    values.forEach((v, i) =>
      assert.ok(
        Math.abs(v - two.maps[key][i]) <= 1e-5,
        `${key}[${i}]: ${v} vs ${two.maps[key][i]}`,
      )
    );
  }
});

Deno.test("an error inside a WASM pthread worker is caught and counted, not fatal", async () => {
  const { prepareWasm } = await import("../../models/tfjs/wasm_threads.ts");
  const logged: string[] = [];
  const info = await prepareWasm({ threads: 2, log: (m) => logged.push(m) });
  const script = URL.createObjectURL(
    new Blob([
      "self.onmessage = () => { throw new Error('boom in a pthread'); };",
    ]),
  );
  const worker = new Worker(script); // classic, as Emscripten starts them
  worker.postMessage({ cmd: "run" });
  for (let i = 0; i < 100 && info.workerErrors === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  worker.terminate();
  URL.revokeObjectURL(script);
  assert.equal(info.workerErrors, 1);
  assert.match(logged.join("\n"), /WASM worker error: .*boom in a pthread/);
});
