import assert from "node:assert/strict";
import {
  type AdapterSummary,
  type BackendDeps,
  type BackendName,
  selectBackend,
} from "../../models/tfjs/backend.ts";

function fakeDeps(
  adapter: AdapterSummary | null,
  behaviour: Partial<Record<BackendName, "ok" | "false" | "throw">> = {},
): BackendDeps & { tried: BackendName[] } {
  const tried: BackendName[] = [];
  return {
    tried,
    requestAdapter: () => Promise.resolve(adapter),
    activate(name) {
      tried.push(name);
      const b = behaviour[name] ?? "ok";
      if (b === "throw") throw new Error(`${name} exploded`);
      return Promise.resolve(b === "ok");
    },
  };
}

const software = { description: "mesa llvmpipe (software)", isFallback: true };
const hardware = { description: "nvidia h100", isFallback: false };

Deno.test("auto picks wasm when the only adapter is a fallback adapter", async () => {
  const deps = fakeDeps(software);
  const info = await selectBackend("auto", { deps });
  assert.equal(info.name, "wasm");
  assert.deepEqual(deps.tried, ["wasm"]);
  assert.match(info.skipped[0], /software adapter/);
});

Deno.test("auto picks webgpu on a real adapter and reports it", async () => {
  const info = await selectBackend("auto", { deps: fakeDeps(hardware) });
  assert.equal(info.name, "webgpu");
  assert.equal(info.adapter, "nvidia h100");
});

Deno.test("auto picks wasm when there is no adapter", async () => {
  const info = await selectBackend("auto", { deps: fakeDeps(null) });
  assert.equal(info.name, "wasm");
  assert.match(info.skipped[0], /no WebGPU adapter/);
});

Deno.test("an explicit webgpu request uses a software adapter", async () => {
  const info = await selectBackend("webgpu", { deps: fakeDeps(software) });
  assert.equal(info.name, "webgpu");
  assert.equal(info.adapter, software.description);
});

Deno.test("a backend that throws at init falls back and is logged", async () => {
  const logged: string[] = [];
  const deps = fakeDeps(hardware, { webgpu: "throw" });
  const info = await selectBackend("auto", {
    deps,
    log: (m) => logged.push(m),
  });
  assert.equal(info.name, "wasm");
  assert.deepEqual(deps.tried, ["webgpu", "wasm"]);
  assert.match(
    logged.join("\n"),
    /webgpu: backend failed to initialise: webgpu exploded/,
  );
});

Deno.test("wasm that does not start falls back to cpu", async () => {
  const deps = fakeDeps(null, { wasm: "false" });
  const info = await selectBackend("wasm", { deps });
  assert.equal(info.name, "cpu");
  assert.deepEqual(deps.tried, ["wasm", "cpu"]);
});

Deno.test("a failing adapter request is not fatal", async () => {
  const deps: BackendDeps = {
    requestAdapter: () => Promise.reject(new Error("driver crashed")),
    activate: () => Promise.resolve(true),
  };
  const info = await selectBackend("auto", { deps });
  assert.equal(info.name, "wasm");
  assert.match(info.skipped[0], /driver crashed/);
});

Deno.test("when nothing starts the error lists every reason", async () => {
  const deps = fakeDeps(null, { wasm: "throw", cpu: "false" });
  await assert.rejects(
    () => selectBackend("auto", { deps }),
    /No TF.js backend could start: .*wasm exploded.*cpu: backend did not initialise/,
  );
});

Deno.test("on this machine auto avoids software adapters", async () => {
  const info = await selectBackend("auto");
  const gpu = (navigator as { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter();
  const fallback = !adapter ||
    Boolean(
      (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    );
  assert.equal(info.name, fallback ? "wasm" : "webgpu");
});
