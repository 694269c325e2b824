/**
 * docs/CLIENTS.md's Apollo Client 4 recipe, run as a reader would: a new
 * Node project in an empty folder, the doc's install commands (from the npm
 * registry; npm's cache is kept under /tmp between runs), the doc's files
 * written exactly as the doc shows them, and `node explain.mjs` against a
 * Lumen server on the tiny network over HTTP. The doc cannot drift from
 * what works.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { decodeImage } from "../../lib/image.ts";
import {
  chelseaBase64,
  graphqlRequest,
  send,
  withServer,
} from "../schema/_helpers.ts";
import { tinyApp } from "../schema/_tiny_app.ts";
import { isCi } from "../_ci.ts";

const DOC = new URL("../../docs/CLIENTS.md", import.meta.url);
const CHELSEA = fileURLToPath(
  new URL("../fixtures/chelsea.png", import.meta.url),
);

/** The doc's titled code blocks (```js title="x.mjs"), by title. */
function titledBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(/```\w+ title="([^"]+)"\n(.*?)```/gs)) {
    blocks.set(match[1], match[2]);
  }
  return blocks;
}

async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> | undefined },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    ...(options.env ? { env: options.env } : {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

function nodeStatus(): { run: boolean } {
  try {
    new Deno.Command("node", { args: ["--version"] }).outputSync();
    new Deno.Command("npm", { args: ["--version"] }).outputSync();
    return { run: true };
  } catch {
    const reason = "node and npm are needed: apt-get install -y nodejs npm";
    if (isCi()) {
      throw new Error(`The Apollo recipe test cannot run under CI: ${reason}`);
    }
    console.warn(`Skipping the Apollo recipe test: ${reason}`);
    return { run: false };
  }
}

const NPM_ENV = {
  npm_config_cache: "/tmp/lumen-npm-cache",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
  npm_config_prefer_offline: "true",
};

Deno.test({
  name: "docs/CLIENTS.md: the Apollo Client 4 recipe uploads and gets @defer",
  ignore: !nodeStatus().run,
  async fn() {
    const blocks = titledBlocks(await Deno.readTextFile(DOC));
    assert.deepEqual([...blocks.keys()], [
      "install",
      "upload_link.mjs",
      "explain.mjs",
    ]);
    const dir = await Deno.makeTempDir({ prefix: "lumen-apollo-recipe-" });
    try {
      for (const line of blocks.get("install")!.trim().split("\n")) {
        const [command, ...args] = line.trim().split(/\s+/);
        const installed = await run(command, args, { cwd: dir, env: NPM_ENV });
        assert.equal(installed.code, 0, `${line}: ${installed.stderr}`);
      }
      for (const name of ["upload_link.mjs", "explain.mjs"]) {
        await Deno.writeTextFile(`${dir}/${name}`, blocks.get(name)!);
      }
      const { app } = await tinyApp();
      const top = await send(
        app.fetch,
        graphqlRequest(
          "query($b: String!) { predict(image: { base64: $b }, top: 1) { label } }",
          { b: await chelseaBase64() },
        ),
      );
      const label = (top.data!.predict as { label: string }[])[0].label;
      const result = await withServer(
        app,
        (base) =>
          run("node", ["explain.mjs", CHELSEA], {
            cwd: dir,
            env: { LUMEN_URL: base },
          }),
      );
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 3, result.stdout);
      // The label first, without the overlay: the deferred part came later.
      assert.equal(lines[0].dataState, "streaming");
      assert.equal(lines[0].label, label);
      assert.equal(lines[1].dataState, "complete");
      assert.equal(lines[1].label, label);
      assert.equal(lines[2].overlay, "overlay.png");
      const png = await Deno.readFile(`${dir}/overlay.png`);
      assert.equal(png.length, lines[2].bytes);
      const overlay = await decodeImage(png);
      assert.deepEqual([overlay.width, overlay.height], [451, 300]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
