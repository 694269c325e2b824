/**
 * `deno task explain --server URL`: the CLI sends each image as a job to a
 * running server (the app over real HTTP, jobs embedded, on the tiny
 * network) and writes the same files as when it runs the model itself.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../cli.ts";
import { remoteService } from "../../cli/mod.ts";
import { checkExplain } from "../../explain/mod.ts";
import { activationExplainer } from "../../explainers/activation.ts";
import { gradCamExplainer } from "../../explainers/grad_cam.ts";
import {
  builtinExplainers,
  createRegistry,
} from "../../explainers/registry.ts";
import { scoreCamExplainer } from "../../explainers/score_cam.ts";
import {
  DEFAULT_JOB_SETTINGS,
  openExplanationJobs,
} from "../../jobs/explanation/mod.ts";
import { decodeBase64Image } from "../../lib/base64.ts";
import { createApp } from "../../server/mod.ts";
import { modelView } from "../../workers/mod.ts";
import { serviceOver } from "../_service.ts";
import { withServer } from "../schema/_helpers.ts";
import { sharedTiny, tinyPng } from "../schema/_tiny_app.ts";

/** Runs `fn` with a served app on the tiny network that runs jobs itself. */
async function withJobServer<T>(fn: (base: string) => Promise<T>): Promise<T> {
  const runtime = await sharedTiny();
  const registry = createRegistry([
    activationExplainer(),
    gradCamExplainer(),
    scoreCamExplainer(),
  ]);
  const service = await serviceOver(runtime, registry);
  const jobs = openExplanationJobs(DEFAULT_JOB_SETTINGS, {
    runHere: { service, registry },
  });
  try {
    return await withServer(createApp({ service, registry, jobs }), fn);
  } finally {
    await jobs.close({ graceMs: 0 });
  }
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "lumen-cli-server-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli --server: each image is a job on the server; the files are those a local run writes", async () => {
  await withTemp(async (dir) => {
    const images = [join(dir, "a.png"), join(dir, "b.png")];
    for (const [i, path] of images.entries()) {
      await Deno.writeFile(
        path,
        decodeBase64Image(await tinyPng(60 + i), 1 << 20),
      );
    }
    const out = join(dir, "out");
    await withJobServer(async (base) => {
      const code = await runCli([
        ...images,
        "--method",
        "gradcam,scorecam",
        "--layer",
        "b_out",
        "--out",
        out,
        "--server",
        base,
        "--no-progress",
      ]);
      assert.equal(code, 0);

      // The same request through the local service of the same network.
      const runtime = await sharedTiny();
      const registry = createRegistry(builtinExplainers());
      const service = await serviceOver(runtime, registry);
      const remote = remoteService(base);
      const request = checkExplain(
        { model: modelView(await remote.ready()), registry },
        {
          methods: ["gradcam", "scorecam"],
          layer: "b_out",
          outputs: { maps: true, overlay: true, heatmap: false },
        },
        { maxMethods: 16 },
      );
      for (const [i, path] of images.entries()) {
        const local = await service.explain({
          ...request,
          image: await Deno.readFile(path),
        });
        for (const method of ["gradcam", "scorecam"]) {
          const stem = join(out, `${"ab"[i]}_${method}`);
          const written = JSON.parse(await Deno.readTextFile(`${stem}.json`));
          const expected = local.methods.find((m) => m.method === method)!;
          assert.deepEqual(
            written.values,
            Array.from(expected.map!.heatmap.values),
            `${stem}: the server's map is the local one`,
          );
          assert.equal(written.label, local.analysis.label);
          assert.deepEqual(
            await Deno.readFile(`${stem}.png`),
            expected.rendering!.overlay,
          );
        }
      }
    });
  });
});

Deno.test("cli --server: bad arguments are usage errors (2); a server that is not there is status 3", async () => {
  await withTemp(async (dir) => {
    const image = join(dir, "a.png");
    await Deno.writeFile(image, decodeBase64Image(await tinyPng(62), 1 << 20));
    const args = [image, "--method", "gradcam", "--out", join(dir, "out")];
    await withJobServer(async (base) => {
      assert.equal(
        await runCli([...args, "--layer", "nope", "--server", base]),
        2,
      );
    });
    assert.equal(await runCli([...args, "--server", "ftp://x"]), 2);
    assert.equal(
      await runCli([
        ...args,
        "--server",
        "http://127.0.0.1:1",
        "--backend",
        "wasm",
      ]),
      2,
    );
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    // Nothing listens there any more.
    assert.equal(
      await runCli([...args, "--server", `http://127.0.0.1:${port}`]),
      3,
    );
  });
});
