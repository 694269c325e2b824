/**
 * RELIABILITY.md names what proves each guarantee. Every test it quotes as
 * `` `tests/path_test.ts` › "test name" `` must exist: the file, and in it a
 * `Deno.test` or `t.step` with exactly that name. Every `--flag` it names
 * must be a flag of the server or of the job worker, every limit flag of
 * the server must be in it, and every default it writes in the limits
 * table must be the default (giving it as the flag changes nothing). A
 * test renamed, a flag dropped or a default changed fails this file.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  parseServerConfig,
  parseWorkerConfig,
  USAGE,
  WORKER_USAGE,
} from "../config/mod.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DOC = await Deno.readTextFile(join(ROOT, "RELIABILITY.md"));

/** Stands for a `${…}` part of a test name written as a template literal. */
const HOLE = "\u0000";

/** One `` `tests/…_test.ts` › "name" `` quote. */
interface Quote {
  file: string;
  name: string;
}

/** Collapses runs of white space (Markdown wraps long names). */
function squash(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Every quoted test of a Markdown text. */
function quotedTests(markdown: string): Quote[] {
  const quote = /`(tests\/[^`\s]+\.ts)`\s*›\s*"([^"]+)"/g;
  return [...markdown.matchAll(quote)].map((m) => ({
    file: m[1],
    name: squash(m[2]),
  }));
}

/** Reads one string literal starting at `source[i]`; its end and text. */
function stringAt(source: string, i: number): { end: number; text: string } {
  const quote = source[i++];
  let text = "";
  while (i < source.length && source[i] !== quote) {
    if (source[i] === "\\") {
      text += source[i + 1];
      i += 2;
    } else if (quote === "`" && source.startsWith("${", i)) {
      i += 2;
      for (let depth = 1; depth > 0 && i < source.length; i++) {
        if (source[i] === "{") depth++;
        if (source[i] === "}") depth--;
      }
      text += HOLE;
    } else {
      text += source[i++];
    }
  }
  return { end: i + 1, text };
}

/**
 * The names of the `Deno.test` and `t.step` calls in a source file: a
 * string literal, a `name:` field, or literals joined by `+`; a template
 * literal's `${…}` parts become holes. Names held in variables are not read.
 */
function testNames(source: string): string[] {
  const names: string[] = [];
  const call = /(?:\bDeno\.test(?:\.ignore|\.only)?|\bt\.step)\s*\(/g;
  for (const match of source.matchAll(call)) {
    let i = match.index + match[0].length;
    const skipSpace = () => {
      while (/\s/.test(source[i] ?? "")) i++;
    };
    skipSpace();
    if (source[i] === "{") {
      const field = /^\{\s*name\s*:/.exec(source.slice(i, i + 100));
      if (!field) continue;
      i += field[0].length;
      skipSpace();
    }
    const parts: string[] = [];
    while (['"', "'", "`"].includes(source[i])) {
      const literal = stringAt(source, i);
      parts.push(literal.text);
      i = literal.end;
      skipSpace();
      if (source[i] !== "+") break;
      i++;
      skipSpace();
    }
    if (parts.length > 0) names.push(squash(parts.join("")));
  }
  return names;
}

/**
 * Whether `quoted` is exactly a name the test name `name` gives: equal, or
 * equal once each hole of a template name stands for some text.
 */
function nameMatches(quoted: string, name: string): boolean {
  if (!name.includes(HOLE)) return quoted === name;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = name.split(HOLE).map(escape).join(".+");
  return new RegExp(`^${pattern}$`, "s").test(quoted);
}

/**
 * The test names of a test file, with those of the `./_*.ts` helpers it
 * imports (shared suites such as `tests/jobs/_conformance.ts` register
 * tests for each file that runs them).
 */
async function namesOfFile(path: string): Promise<string[]> {
  const source = await Deno.readTextFile(path);
  const names = testNames(source);
  const helpers = source.matchAll(
    /from\s+"(\.{1,2}\/(?:[^"]*\/)?_[^"/]+\.ts)"/g,
  );
  for (const [, helper] of helpers) {
    const helperPath = join(dirname(path), helper);
    names.push(...testNames(await Deno.readTextFile(helperPath)));
  }
  return names;
}

/** The quotes whose file or test does not exist, as `file › "name"` lines. */
async function missingTests(quotes: readonly Quote[]): Promise<string[]> {
  const byFile = new Map<string, string[] | null>();
  const missing: string[] = [];
  for (const { file, name } of quotes) {
    if (!byFile.has(file)) {
      try {
        byFile.set(file, await namesOfFile(join(ROOT, file)));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        byFile.set(file, null);
      }
    }
    const names = byFile.get(file);
    if (names === null) missing.push(`${file}: no such file`);
    else if (!names!.some((n) => nameMatches(name, n))) {
      missing.push(`${file} › "${name}"`);
    }
  }
  return missing;
}

/** Deno's own flags, which the page may show in command lines. */
const DENO_FLAGS = new Set([
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-ffi",
  "--allow-sys",
]);

/** The `--flags` a text names (Deno's own left out). */
function flagsOf(text: string): Set<string> {
  const all = text.match(/(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]/g) ?? [];
  return new Set(all.filter((flag) => !DENO_FLAGS.has(flag)));
}

/** The lines of a usage text from the heading `title` to the next blank line. */
function usageSection(usage: string, title: string): string {
  const start = usage.indexOf(`\n${title}`);
  assert.ok(start >= 0, `no "${title}" in the usage text`);
  const end = usage.indexOf("\n\n", start + 1);
  return usage.slice(start, end < 0 ? undefined : end);
}

/** `| … | `--flag` | `default` | … |` rows of the page's tables. */
function tableDefaults(markdown: string): { flag: string; value: string }[] {
  const rows: { flag: string; value: string }[] = [];
  for (const line of markdown.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const flag = /^`(--[a-z0-9-]+)`$/.exec(cells[2] ?? "");
    const value = /^`([^`]+)`/.exec(cells[3] ?? "");
    if (line.startsWith("|") && flag && value) {
      rows.push({ flag: flag[1], value: value[1] });
    }
  }
  return rows;
}

Deno.test("testNames reads literal, field, joined and template names, and t.step names", () => {
  const source = [
    `Deno.test("plain name", () => {});`,
    `Deno.test({\n  name:\n    "a field " +\n    'joined',\n  fn() {},\n});`,
    "Deno.test(`${name}: from a template ${x + 1}`, () => {});",
    `Deno.test({ name, fn });`,
    `Deno.test({ permissions: { read: true }, fn: () => {} });`,
    `  await t.step("a step", async () => {});`,
    `Deno.test(\n  "a name that deno fmt\n  wrapped",\n  () => {},\n);`,
  ].join("\n");
  assert.deepEqual(testNames(source), [
    "plain name",
    "a field joined",
    `${HOLE}: from a template ${HOLE}`,
    "a step",
    "a name that deno fmt wrapped",
  ]);
});

Deno.test("nameMatches: exact names only; a hole stands for some text", () => {
  const cases: [string, string, boolean][] = [
    ["a full name", "a full name", true],
    ["a full", "a full name", false],
    ["a full name, longer", "a full name", false],
    ["a fall name", "a full name", false],
    ["embedded: a job runs", `${HOLE}: a job runs`, true],
    ["redis: a job runs", `${HOLE}: a job runs`, true],
    [": a job runs", `${HOLE}: a job runs`, false],
    ["embedded: a job runs away", `${HOLE}: a job runs`, false],
    ["wasm at 32 px", `${HOLE} at ${HOLE} px`, true],
    ["a (b) [c] $d", "a (b) [c] $d", true],
  ];
  for (const [quoted, name, expected] of cases) {
    assert.equal(nameMatches(quoted, name), expected, `${quoted} / ${name}`);
  }
});

Deno.test('quotedTests reads `file` › "name" quotes, wrapped or not', () => {
  const markdown = [
    'Proved by `tests/a_test.ts` › "one name" and',
    '`tests/b/c_test.ts` ›\n"a name wrapped\nover lines".',
    'Not a quote: `tests/a_test.ts` alone, "a name" alone, `lib/x.ts` › "y".',
  ].join("\n");
  assert.deepEqual(quotedTests(markdown), [
    { file: "tests/a_test.ts", name: "one name" },
    { file: "tests/b/c_test.ts", name: "a name wrapped over lines" },
  ]);
});

Deno.test("a wrong name, a shortened name and a missing file are reported", async () => {
  const good = quotedTests(DOC)[0];
  assert.ok(good, "RELIABILITY.md quotes no test");
  const wrong = { file: good.file, name: `${good.name} (renamed)` };
  const short = { file: good.file, name: good.name.slice(0, -3) };
  const gone = { file: "tests/no_such_test.ts", name: good.name };
  assert.deepEqual(await missingTests([good, wrong, short, gone]), [
    `${wrong.file} › "${wrong.name}"`,
    `${short.file} › "${short.name}"`,
    "tests/no_such_test.ts: no such file",
  ]);
});

Deno.test("every test RELIABILITY.md quotes exists under exactly that name", async () => {
  const quotes = quotedTests(DOC);
  // The page quotes dozens; a parse that finds none would pass silently.
  assert.ok(quotes.length >= 60, `only ${quotes.length} quoted tests found`);
  assert.deepEqual(await missingTests(quotes), [], "quoted tests not found");
});

Deno.test("every flag RELIABILITY.md names is a flag of the server or the job worker", () => {
  const known = new Set([...flagsOf(USAGE), ...flagsOf(WORKER_USAGE)]);
  const named = [...flagsOf(DOC)];
  assert.ok(named.length >= 25, `only ${named.length} flags found`);
  assert.deepEqual(named.filter((f) => !known.has(f)), [], "unknown flags");
});

Deno.test("every limit, model worker and job flag of the server is in RELIABILITY.md", () => {
  const sections = [
    usageSection(USAGE, "Model workers"),
    usageSection(USAGE, "Limits"),
    usageSection(USAGE, "Jobs"),
  ].join("\n");
  const flags = [...flagsOf(sections)];
  assert.ok(flags.includes("--max-model-memory"), "usage sections not read");
  const named = flagsOf(DOC);
  assert.deepEqual(flags.filter((f) => !named.has(f)), [], "flags missing");
});

Deno.test("each default in RELIABILITY.md's tables is the flag's default", () => {
  const rows = tableDefaults(DOC);
  assert.ok(rows.length >= 20, `only ${rows.length} table rows with defaults`);
  const defaults = parseServerConfig([], {});
  const redis = ["--redis", "redis://127.0.0.1:6379"];
  const workerDefaults = parseWorkerConfig(redis, {});
  const wrong: string[] = [];
  for (const { flag, value } of rows) {
    // Giving the default as the flag changes nothing; a server flag is
    // checked on the server, a job worker's own flag on the worker.
    const server = flagsOf(USAGE).has(flag);
    try {
      const same = server
        ? parseServerConfig([flag, value], {})
        : parseWorkerConfig([...redis, flag, value], {});
      assert.deepEqual(same, server ? defaults : workerDefaults);
    } catch {
      wrong.push(`${flag} ${value}`);
    }
  }
  assert.deepEqual(wrong, [], "defaults that are not the defaults");
});
