/**
 * Every code block of README.md and docs/*.md is run by a test: each names
 * its runner in its info string (```sh cli-example), this file checks that
 * none is left without one, and runs the blocks no other test runs — the
 * quick start's server, the command line, exporting and serving your own
 * model, and the Redis fleet — as written, with only ports, paths and
 * output folders changed.
 */
import assert from "node:assert/strict";
import { isCi } from "./_ci.ts";
import { chelseaBase64 } from "./schema/_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Tag → the file that runs blocks with it. */
const RUNNERS: Record<string, string> = {
  "example": "tests/readme_test.ts",
  "job-example": "tests/schema/readme_jobs_test.ts",
  'title="install"': "tests/web/apollo_recipe_test.ts",
  'title="upload_link.mjs"': "tests/web/apollo_recipe_test.ts",
  'title="explain.mjs"': "tests/web/apollo_recipe_test.ts",
  "quickstart": "tests/docs_test.ts",
  "cli-example": "tests/docs_test.ts",
  "own-model-example": "tests/docs_test.ts",
  "fleet-example": "tests/docs_test.ts",
};
/** Languages that are instructions, not output. */
const RUNNABLE = new Set(["sh", "bash", "python", "graphql", "js", "ts"]);

interface Block {
  doc: string;
  language: string;
  tag: string;
  code: string;
}

async function docBlocks(): Promise<Block[]> {
  const docs = ["README.md"];
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.name.endsWith(".md")) docs.push(`docs/${entry.name}`);
  }
  const blocks: Block[] = [];
  for (const doc of docs) {
    const text = await Deno.readTextFile(ROOT + doc);
    for (
      const m of text.matchAll(/^```(\w+)[ \t]*([^\n]*)\n([\s\S]*?)^```/gm)
    ) {
      blocks.push({ doc, language: m[1], tag: m[2].trim(), code: m[3] });
    }
  }
  return blocks;
}

const blocks = await docBlocks();
const tagged = (tag: string) => blocks.filter((b) => b.tag === tag);

Deno.test("every runnable block of the docs names a runner, and the runner exists", async () => {
  const unrun = blocks.filter((b) => RUNNABLE.has(b.language))
    .filter((b) => !(b.tag in RUNNERS))
    .map((b) =>
      `${b.doc}: \`\`\`${b.language} ${b.tag}: ${b.code.slice(0, 50)}`
    );
  assert.deepEqual(unrun, []);
  for (const [tag, file] of Object.entries(RUNNERS)) {
    const text = await Deno.readTextFile(ROOT + file);
    const name = tag.startsWith("title=") ? "title=" : tag;
    assert.ok(text.includes(name), `${file} does not read "${tag}" blocks`);
  }
  for (
    const tag of [
      "quickstart",
      "cli-example",
      "own-model-example",
      "fleet-example",
    ]
  ) {
    assert.ok(tagged(tag).length > 0, `no ${tag} block left to run`);
  }
});

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** `pid` and every process below it (`ps`: Deno reads /proc only with -A). */
async function processTree(pid: number): Promise<number[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid="],
    stdout: "piped",
  }).output();
  const pairs = new TextDecoder().decode(stdout).trim().split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number));
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of pairs) {
      if (parent === tree[i]) tree.push(child);
    }
  }
  return tree;
}

/**
 * A shell script started from the project root; disposing of it kills it
 * and everything it started (Deno, model workers, redis-server) with
 * SIGKILL, so redis-server writes no dump into the project.
 */
function startScript(script: string, env: Record<string, string> = {}) {
  const child = new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk);
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return {
    output: () => output,
    async [Symbol.asyncDispose]() {
      for (const pid of await processTree(child.pid)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await child.status;
      await done;
    },
  };
}

async function waitReady(base: string, output: () => string): Promise<void> {
  // Generous: several processes load ResNet-50 at once on two busy cores.
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const answer = await fetch(`${base}/ready`)
      .then(async (r) => ({ ok: r.ok, body: await r.json() }))
      .catch(() => null); // Not listening yet.
    if (answer?.ok) return;
    if (answer?.body.status === "failed") {
      throw new Error(`${base}: ${JSON.stringify(answer.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${base} never became ready:\n${output().slice(-3000)}`);
}

/** A GraphQL answer's data, read field by field by the assertions. */
// deno-lint-ignore no-explicit-any
type Data = Record<string, any>;

async function graphql(
  base: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Data> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

const deno = Deno.execPath();
const withDeno = {
  PATH: `${deno.replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH")}`,
};

Deno.test({
  name:
    "quick start: the serve line starts a server that explains (npx as written)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const [block] = tagged("quickstart");
    const serve = block.code.split("\n").find((l) => l.includes("task serve"))!
      .replace(/#.*/, "").trim();
    const test = block.code.split("\n").find((l) => l.includes("task test"))!
      .replace(/#.*/, "").trim();
    // The test line is what CI runs.
    assert.ok((await Deno.readTextFile(`${ROOT}.ci/run`)).includes(test));
    const port = freePort();
    await using server = startScript(`${serve} --port ${port}`, withDeno);
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, server.output);
    const data = await graphql(
      base,
      `query($b: String!) { explain(image: { base64: $b }) { label overlay } }`,
      { b: await chelseaBase64() },
    );
    assert.equal(data.explain.label, "Egyptian_cat");
    assert.match(data.explain.overlay, /^data:image\/png;base64,/);
    assert.equal((await fetch(`${base}/`)).status, 200);
  },
});

Deno.test({
  name: "the command line examples run as written and write what they say",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lumen-docs-cli-" });
    try {
      for (const block of tagged("cli-example")) {
        const script = block.code.replaceAll("--out out", `--out ${dir}/out`)
          .replaceAll("out/report.html", `${dir}/out/report.html`);
        const { code, stdout, stderr } = await new Deno.Command("bash", {
          args: ["-euo", "pipefail", "-c", script],
          cwd: ROOT,
          env: withDeno,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const out = new TextDecoder().decode(stdout);
        assert.equal(code, 0, new TextDecoder().decode(stderr).slice(-2000));
        if (script.includes("--list-layers")) {
          assert.match(out, /layer4 = /);
        }
      }
      const written = [];
      for await (const entry of Deno.readDir(`${dir}/out`)) {
        written.push(entry.name);
      }
      for (
        const name of [
          "chelsea_gradcam.png",
          "chelsea_scorecam.json",
          "coffee_scorecam.png",
          "report.html",
          "chelsea_occlusion.png",
        ]
      ) {
        assert.ok(written.includes(name), `${name} missing: ${written}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A Python with PyTorch: the one on PATH, else Debian's (pyenv may shadow it). */
async function pythonWithTorch(): Promise<string | null> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    const { success } = await new Deno.Command(python, {
      args: ["-c", "import torch, torchvision, onnx"],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => ({ success: false }));
    if (success) return python;
  }
  return null;
}

const python = await pythonWithTorch();
const hasTorch = python !== null;
if (!hasTorch) {
  console.warn(
    "Skipping the PyTorch export example: python3 with torch, torchvision and onnx is missing (Debian: python3-torch python3-torchvision python3-onnx)",
  );
}

Deno.test({
  name:
    "your own model: the PyTorch export and the serve line, as written, explain with its labels",
  // CI installs PyTorch (.ci/run): there, a missing one fails.
  ignore: !hasTorch && !isCi(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lumen-docs-model-" });
    try {
      const [exporter] = tagged("own-model-example").filter((b) =>
        b.language === "python"
      );
      const [shell] = tagged("own-model-example").filter((b) =>
        b.language === "sh"
      );
      await Deno.writeTextFile(`${dir}/export.py`, exporter.code);
      const exported = await new Deno.Command(python ?? "python3", {
        args: ["export.py"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        exported.code,
        0,
        new TextDecoder().decode(exported.stderr).slice(-2000),
      );
      const port = freePort();
      const script = shell.code
        .replaceAll("resnet18.onnx", `${dir}/resnet18.onnx`)
        .replaceAll("labels.txt", `${dir}/labels.txt`)
        // A port, and a weights cache that goes with the test's folder (the
        // exported ResNet-18 has new random weights, so a new file, each run).
        .replace(
          /(deno task serve [^\n]*)/,
          `$1 --port ${port} --weights-cache ${dir}/cache`,
        );
      await using server = startScript(script, withDeno);
      const base = `http://127.0.0.1:${port}`;
      await waitReady(base, server.output);
      const data = await graphql(
        base,
        `query($b: String!) {
          models { name }
          model { backend inputSize labels }
          explain(image: { base64: $b }, method: "gradcam", model: "resnet18") {
            label layer map { width height } overlay
          }
        }`,
        { b: await chelseaBase64() },
      );
      assert.deepEqual(data.models.map((m: { name: string }) => m.name), [
        "resnet18",
      ]);
      assert.equal(data.model.backend, "onnxruntime");
      assert.equal(data.model.inputSize, 224);
      assert.equal(data.model.labels[3], "cat");
      assert.ok(data.model.labels.includes(data.explain.label));
      assert.deepEqual(data.explain.map, { width: 7, height: 7 });
      assert.match(data.explain.overlay, /^data:image\/png;base64,/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const hasRedis = (await new Deno.Command("redis-server", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().catch(() => ({ success: false }))).success;

Deno.test({
  name:
    "the Redis fleet example: a job started on one replica is run by a worker and read on the other",
  ignore: !hasRedis && !isCi(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const [block] = tagged("fleet-example");
    const [redis, a, b] = [freePort(), freePort(), freePort()];
    const script = block.code.replaceAll("6379", String(redis))
      .replaceAll("--port 8000", `--port ${a}`)
      .replaceAll("--port 8001", `--port ${b}`) + "wait\n";
    await using fleet = startScript(script, withDeno);
    const [first, second] = [a, b].map((p) => `http://127.0.0.1:${p}`);
    await waitReady(first, fleet.output);
    await waitReady(second, fleet.output);
    const started = await graphql(
      first,
      `mutation($b: String!) {
        startExplanation(image: { base64: $b }, methods: ["gradcam"]) { id }
      }`,
      { b: await chelseaBase64() },
    );
    const id = started.startExplanation.id;
    const deadline = Date.now() + 180_000;
    let job: Data = {};
    while (Date.now() < deadline) {
      job = (await graphql(
        second,
        `query($id: ID!) { job(id: $id) { state results { method label } } }`,
        { id },
      )).job;
      if (!["queued", "running"].includes(job.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(job.state, "succeeded", fleet.output().slice(-3000));
    assert.deepEqual(job.results, [{
      method: "gradcam",
      label: "Egyptian_cat",
    }]);
    // The API replicas only queue: a worker ran it.
    assert.match(fleet.output(), /job started/);
  },
});
