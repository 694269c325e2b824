/**
 * The page against main.ts as a process (model worker processes, jobs
 * embedded) serving two models: the tiny network (TF.js `model.json`, the
 * default) and resnet18.onnx from tests/fixtures/onnx/ (ONNX Runtime, its
 * own labels), with two slow test methods as a plugin: `held` reports a few
 * steps, then waits for the test's release file; `failslow` fails. In one
 * page: the model picker and the ONNX model's layer list, every request
 * naming the model, slow methods as jobs with progress, a failed job
 * failing only its card, and every way of moving on (dropping the method,
 * another layer, model or image, reloading) cancelling the running job on
 * the server, with no job left behind.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { fixtureBytes, writeTinyModel } from "../_shared.ts";
import { metric, type Server, startServer, waitFor } from "../_server.ts";
import {
  chromiumStatus,
  closeNetwork,
  cutOffOptions,
  launchChromium,
  proxyTo,
  servePage,
} from "./_browser.ts";

const status = chromiumStatus();

const LABELS = [
  "apple",
  "banana",
  "cherry",
  "damson",
  "elderberry",
  "fig",
  "grape",
  "huckleberry",
  "imbe",
  "jujube",
];

/** The plugin: `held` and `failslow`, both slow, logging what they do. */
const PLUGIN = `
const say = (msg, fields = {}) =>
  console.error(JSON.stringify({ level: "info", msg, ...fields }));
const release = new URL("./release", import.meta.url);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const released = () => Deno.stat(release).then(() => true, () => false);
export default [{
  name: "held",
  description: "Reports four steps, then waits for the test's release file",
  needsGradients: false,
  slow: true,
  parseParams: () => ({}),
  async explain({ signal, onProgress }) {
    for (let step = 1; ; step++) {
      if (signal?.aborted) {
        say("held stopped", { step });
        throw signal.reason;
      }
      if (step > 4 && await released()) break;
      if (step <= 4) onProgress?.(step / 10);
      await pause(step <= 4 ? 60 : 20);
    }
    onProgress?.(0.9);
    return { width: 2, height: 2, values: new Float32Array([0, 1, 2, 3]) };
  },
}, {
  name: "failslow",
  description: "Fails after its first step",
  needsGradients: false,
  slow: true,
  parseParams: () => ({}),
  async explain({ onProgress }) {
    onProgress?.(0.5);
    await pause(20);
    throw new Error("secret internal detail");
  },
}];
`;

const RESNET18_DEFAULT = "/layer4/layer4.1/relu_1/Relu_output_0";
const RESNET18_LAYER3 = "/layer3/layer3.1/relu_1/Relu_output_0";

async function gql(
  server: Server,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function jobState(server: Server, id: string): Promise<string> {
  const data = await gql(server, "query($id: ID!) { job(id: $id) { state } }", {
    id,
  });
  return (data.job as { state: string }).state;
}

/** A started job: its id and the operations that started it. */
interface StartedJob {
  id: string;
  operations: string;
}

/** The next job the page starts (call before the action that starts it). */
function nextJob(page: Page): Promise<StartedJob> {
  return page.waitForResponse(
    (r) =>
      new URL(r.url()).pathname === "/graphql" &&
      (r.request().postData() ?? "").includes("StartExplanation"),
    { timeout: 30_000 },
  ).then(async (r) => ({
    id: (await r.json()).data.startExplanation.id,
    operations: r.request().postData() ?? "",
  }));
}

/** Waits until the held card shows progress from the server. */
async function heldRunning(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      (document.querySelector<HTMLProgressElement>(
        '.card[data-method="held"][data-state="running"] progress',
      )?.value ?? 0) > 0,
    null,
    { timeout: 30_000 },
  );
}

Deno.test({
  name: "web page: a model picker, and slow methods as jobs cancelled when " +
    "the page moves on",
  ignore: !status.run,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-web-" });
    await Deno.writeTextFile(`${dir}/labels.txt`, LABELS.join("\n"));
    await Deno.writeTextFile(`${dir}/slow.js`, PLUGIN);
    const model = await writeTinyModel(dir);
    const server = await startServer({ dir }, [
      "--backend",
      "wasm",
      "--model",
      `tiny=${model},preprocess=tf`,
      "--model",
      "resnet18=tests/fixtures/onnx/resnet18.onnx,preprocess=torch," +
      `labels=${dir}/labels.txt`,
      "--plugin",
      `${dir}/slow.js`,
    ]);
    const served = await servePage(proxyTo(server.base));
    const browser = await launchChromium();
    const jobs: Record<string, StartedJob> = {};
    const untilState = (id: string, state: string) =>
      waitFor(async () => (await jobState(server, id)) === state);
    try {
      const outside = await closeNetwork(browser.context, served.base);
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      const sent: string[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === "/graphql") {
          sent.push(request.postData() ?? "");
        }
      });
      const image = async (name: string) => ({
        name,
        mimeType: "image/png",
        buffer: Buffer.from(await fixtureBytes(name)),
      });

      await t.step(
        "two models: a picker; the ONNX model's layers in one list",
        async () => {
          await page.goto(`${served.base}/`);
          await page.waitForSelector("#server-status[data-state=ready]");
          assert.equal(await page.isVisible("#model"), true);
          assert.deepEqual(
            await page.$$eval(
              "#model option",
              (os) => os.map((o) => o.textContent),
            ),
            ["tiny (default)", "resnet18"],
          );
          // The tiny network has Keras-style aliases: grouped by stage.
          assert.equal(
            await page.getAttribute("#layer optgroup", "label"),
            "Stage outputs",
          );
          assert.equal(await page.inputValue("#layer"), "b_out");

          await page.selectOption("#model", "resnet18");
          await page.waitForSelector("#server-status[data-state=ready]");
          assert.match(
            await page.textContent("#server-status") ?? "",
            /^resnet18 on onnxruntime · 10 classes · \d+ methods$/,
          );
          assert.equal(
            await page.textContent("#model-about"),
            "onnxruntime · 10 classes · input 64×64",
          );
          assert.deepEqual(
            await page.$$eval(
              "#layer optgroup",
              (gs) => gs.map((g) => (g as HTMLOptGroupElement).label),
            ),
            ["Layers (the recommended one first)"],
          );
          const texts = await page.$$eval(
            "#layer option",
            (os) => os.map((o) => o.textContent ?? ""),
          );
          assert.deepEqual(texts.slice(0, 4), [
            "layer4",
            "conv1",
            "relu",
            "maxpool",
          ]);
          for (
            const name of ["layer1.0 Add", "layer3", "layer2.0.downsample"]
          ) {
            assert.ok(texts.includes(name), name);
          }
          assert.equal(await page.inputValue("#layer"), RESNET18_DEFAULT);
          assert.match(
            await page.textContent("#layer-about") ?? "",
            /^\/layer4\/layer4\.1\/relu_1\/Relu_output_0 · Relu · 2×2×64 · also layer4, layer4\.1, layer4\.1\.relu_1 · recommended/,
          );
          assert.deepEqual(await cutOffOptions(page, "#layer"), []);
          // The class search is over this model's labels.
          await page.fill("#class-search", "ban");
          assert.equal(
            await page.textContent("#class-results button"),
            "banana (1)",
          );
          await page.fill("#class-search", "");
        },
      );

      await t.step("an upload names the model in every request", async () => {
        sent.length = 0;
        await page.setInputFiles("#file", await image("chelsea.png"));
        await page.waitForSelector(
          '.card[data-method="gradcam"] canvas.overlay',
          {
            timeout: 30_000,
          },
        );
        const labels = await page.$$eval(
          "#predictions .label",
          (ls) => ls.map((l) => l.textContent ?? ""),
        );
        assert.equal(labels.length, 5);
        assert.ok(labels.every((l) => LABELS.includes(l)), labels.join());
        const explains = sent.filter((s) => /explainMany|predict\(/.test(s));
        assert.ok(explains.length > 0);
        for (const s of explains) assert.match(s, /"model":"resnet18"/);
      });

      await t.step(
        "a slow method runs as a job; removing it cancels the job",
        async () => {
          const started = nextJob(page);
          await page.check("#method-held");
          await page.check("#method-failslow");
          jobs.dropped = await started;
          assert.match(jobs.dropped.operations, /"methods":\["held"\]/);
          assert.match(jobs.dropped.operations, /"model":"resnet18"/);
          await heldRunning(page);
          assert.match(
            await page.textContent('.card[data-method="held"] .note') ?? "",
            /^\d+\.\d% done · (estimating the time left…|about \d+ s left|less than a second left)$/,
          );
          assert.equal(
            await page.textContent('.card[data-method="failslow"] .note'),
            "Waiting: slow methods run one at a time, after held.",
          );
          assert.equal(await jobState(server, jobs.dropped.id), "running");

          const failing = nextJob(page);
          await page.uncheck("#method-held");
          await untilState(jobs.dropped.id, "cancelled");
          await waitFor(() =>
            Promise.resolve(server.logs.some((l) => l.msg === "held stopped"))
          );
          assert.equal(
            await page.locator('.card[data-method="held"]').count(),
            0,
          );

          // The next slow method runs, fails, and fails only its own card.
          jobs.failed = await failing;
          const failed = page.locator('.card.failed[data-method="failslow"]');
          await failed.waitFor({ timeout: 30_000 });
          assert.match(await failed.textContent() ?? "", /\(INTERNAL\)/);
          assert.equal(
            await failed.locator('button:has-text("Try again")').count(),
            1,
          );
          assert.equal(await jobState(server, jobs.failed.id), "failed");
          assert.equal(
            await page.locator('.card[data-method="gradcam"] canvas.overlay')
              .count(),
            1,
          );
          assert.equal(await page.textContent("#problems"), "");
          await page.uncheck("#method-failslow");
        },
      );

      await t.step(
        "another layer, model or image cancels the running job",
        async () => {
          let started = nextJob(page);
          await page.check("#method-held");
          jobs.layer = await started;
          await heldRunning(page);

          started = nextJob(page);
          await page.selectOption("#layer", RESNET18_LAYER3);
          await untilState(jobs.layer.id, "cancelled");
          jobs.model = await started;
          assert.match(jobs.model.operations, /"layer":"\/layer3\/layer3\.1/);
          await heldRunning(page);

          started = nextJob(page);
          await page.selectOption("#model", "tiny");
          await untilState(jobs.model.id, "cancelled");
          jobs.image = await started;
          assert.match(jobs.image.operations, /"model":"tiny"/);
          await heldRunning(page);

          started = nextJob(page);
          await page.setInputFiles("#file", await image("coffee.png"));
          await untilState(jobs.image.id, "cancelled");
          jobs.reload = await started;
          await heldRunning(page);

          // Leaving the page cancels its job too.
          await page.reload();
          await untilState(jobs.reload.id, "cancelled");
        },
      );

      await t.step(
        "a released job and a real slow method draw their cards",
        async () => {
          // The reloaded page: the default model, no image.
          await page.waitForSelector("#server-status[data-state=ready]");
          await page.selectOption("#model", "resnet18");
          await page.waitForSelector("#server-status[data-state=ready]");
          let started = nextJob(page);
          await page.check("#method-held");
          await page.setInputFiles("#file", await image("chelsea.png"));
          jobs.released = await started;
          await heldRunning(page);
          await Deno.writeTextFile(`${dir}/release`, "");
          await page.waitForSelector(
            '.card[data-method="held"] canvas.overlay',
            {
              timeout: 30_000,
            },
          );
          assert.equal(await jobState(server, jobs.released.id), "succeeded");

          started = nextJob(page);
          await page.check("#method-occlusion");
          jobs.occlusion = await started;
          assert.match(jobs.occlusion.operations, /"methods":\["occlusion"\]/);
          await page.waitForSelector(
            '.card[data-method="occlusion"] canvas.overlay',
            { timeout: 60_000 },
          );
          assert.equal(await jobState(server, jobs.occlusion.id), "succeeded");
          assert.match(
            await page.textContent('.card[data-method="occlusion"] .about') ??
              "",
            /^[a-z]+ \(class \d, [\d.]+%\) · layer layer4 · jet, α 0\.3$/,
          );
        },
      );

      await t.step("no job is left behind", async () => {
        const states = Object.fromEntries(
          await Promise.all(
            Object.entries(jobs).map(async ([name, job]) =>
              [name, await jobState(server, job.id)] as const
            ),
          ),
        );
        assert.deepEqual(states, {
          dropped: "cancelled",
          failed: "failed",
          layer: "cancelled",
          model: "cancelled",
          image: "cancelled",
          reload: "cancelled",
          released: "succeeded",
          occlusion: "succeeded",
        });
        assert.equal(await metric(server.base, "lumen_job_running"), 0);
        assert.equal(await metric(server.base, "lumen_job_queue_length"), 0);
      });

      assert.deepEqual(outside, [], "requests left the test server");
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      await served.close();
      server.child.kill("SIGTERM");
      await server.exited;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
