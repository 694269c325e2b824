/**
 * ARCHITECTURE.md's rules, checked on the source: which folder may import
 * which, no cycle between folders, other folders imported through their
 * `mod.ts`, no `graphql` below the API, no file over 400 lines of code (doc comments aside).
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What each folder may import (ARCHITECTURE.md's table). */
const ALLOWED: Record<string, string[]> = {
  lib: [],
  models: ["lib"],
  explainers: ["lib", "models"],
  explain: ["lib", "models", "explainers"],
  workers: ["lib", "models", "explainers", "explain"],
  jobs: ["lib", "explainers", "explain", "workers"],
  schema: ["lib", "models", "explainers", "explain", "workers", "jobs", "web"],
  server: ["lib", "explainers", "schema", "workers", "jobs", "web"],
  web: ["lib"],
  config: [
    "lib",
    "models",
    "explainers",
    "schema",
    "server",
    "workers",
    "jobs",
  ],
  cli: ["lib", "models", "explainers", "explain", "workers", "config", "jobs"],
};

/** Folders below the API: no GraphQL in them. */
const BELOW_API = ["lib", "models", "explainers", "explain", "workers", "jobs"];

/** Generated files, exempt from the size rule. */
const GENERATED = new Set(["lib/_colormap_tables.ts"]);

interface Import {
  file: string;
  target: string;
}

async function sources(): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory) {
        if (
          !["node_modules", "tests", "tools", ".git", "dist"].includes(
            entry.name,
          )
        ) {
          await walk(path);
        }
      } else if (entry.name.endsWith(".ts")) {
        out.push({
          file: path,
          text: await Deno.readTextFile(join(ROOT, path)),
        });
      }
    }
  };
  await walk("");
  return out;
}

const files = await sources();

/**
 * The code of a file: its text without doc comments (a JSDoc example may
 * import anything, as a user would; it is not the module's import, nor
 * part of its size).
 */
function codeOf(text: string): string {
  return text.replace(/^[ \t]*\/\*\*[\s\S]*?\*\/[ \t]*\n?/gm, "");
}

function folderOf(path: string): string {
  return path.includes("/") ? path.split("/")[0] : "(root)";
}

function imports(): Import[] {
  const out: Import[] = [];
  for (const { file, text } of files) {
    const code = codeOf(text);
    for (const m of code.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), m[1])));
      out.push({ file, target });
    }
  }
  return out;
}

Deno.test("each folder imports only what ARCHITECTURE.md allows", () => {
  const wrong = imports().filter(({ file, target }) => {
    const from = folderOf(file);
    const to = folderOf(target);
    return from !== "(root)" && from !== to &&
      !(ALLOWED[from] ?? []).includes(to);
  }).map(({ file, target }) => `${file} → ${target}`);
  assert.deepEqual(wrong, []);
});

Deno.test("no cycle between folders", () => {
  const edges = new Map<string, Set<string>>();
  for (const { file, target } of imports()) {
    const from = folderOf(file);
    const to = folderOf(target);
    if (from === to || from === "(root)") continue;
    edges.set(from, (edges.get(from) ?? new Set()).add(to));
  }
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (node: string) => {
    if (state.get(node) === "done") return;
    assert.notEqual(
      state.get(node),
      "visiting",
      `cycle: ${[...path, node].join(" → ")}`,
    );
    state.set(node, "visiting");
    path.push(node);
    for (const next of edges.get(node) ?? []) visit(next);
    path.pop();
    state.set(node, "done");
  };
  for (const node of edges.keys()) visit(node);
});

Deno.test("other folders are imported through their mod.ts (the browser bundle excepted)", () => {
  const wrong = imports().filter(({ file, target }) => {
    const from = folderOf(file);
    const to = folderOf(target);
    if (from === "(root)" || from === to) return false;
    if (file.startsWith("web/client/") && to === "lib") return false;
    // A folder's face, or a subfolder's (`jobs/explanation/mod.ts`).
    return !(target.startsWith(`${to}/`) && target.endsWith("/mod.ts"));
  }).map(({ file, target }) => `${file} → ${target}`);
  assert.deepEqual(wrong, []);
});

Deno.test("nothing below the API imports graphql", () => {
  const wrong = files.filter(({ file, text }) =>
    BELOW_API.includes(folderOf(file)) &&
    /from\s+["'](npm:)?graphql(-yoga)?["'@/]/.test(text)
  ).map(({ file }) => file);
  assert.deepEqual(wrong, []);
});

Deno.test("no source file is over 400 lines of code, doc comments aside (one module, one idea)", () => {
  const lines = (text: string) => codeOf(text).split("\n").length - 1;
  const long = files.filter(({ file, text }) =>
    !GENERATED.has(file) && lines(text) > 400
  ).map(({ file, text }) => `${file}: ${lines(text)} lines`);
  assert.deepEqual(long, []);
});
