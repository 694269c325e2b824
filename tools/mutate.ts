/**
 * Mutation check of the test suite: for each mutation in
 * `tools/mutations/catalog.ts`, copies the repository (the files git knows,
 * as they are in the working tree; `node_modules` and other build outputs
 * linked) to a scratch folder under /tmp, applies the mutation there, runs
 * the named test files, and reports `caught` (a test failed) or `SURVIVED`
 * (all passed). A mutation whose pattern no longer matches exactly once, or
 * whose run ends before any test result (`ERROR`), counts as a failure too.
 * Before the mutations, the named test files run once on an unmutated copy:
 * a file that already fails there cannot judge a mutation.
 *
 * ```sh
 * deno run --allow-read --allow-write=/tmp --allow-run tools/mutate.ts [name…] [--list] [--keep] [--no-baseline] [--check]
 * ```
 *
 * Exit status: 0 when every mutation was caught, 1 otherwise, 2 on usage
 * errors. Tests run with `--no-check` unless `--check` is given (a scratch
 * copy type-checks from scratch, which is slow on 2 cores).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyMutation,
  type Mutation,
  parseTestSummary,
  type TestSummary,
  type Verdict,
  verdictOf,
} from "./mutations/apply.ts";
import { MUTATIONS } from "./mutations/catalog.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
/** Ignored build outputs the tests read, linked into each copy. */
const LINKED = ["node_modules", "web/dist"];
const ORT_BIN =
  "node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/";

const USAGE =
  "Usage: deno run --allow-read --allow-write=/tmp --allow-run tools/mutate.ts [name…] [--list] [--keep] [--no-baseline] [--check]";

async function git(args: string[]): Promise<string> {
  const output = await new Deno.Command("git", {
    args: ["-C", ROOT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `git ${args.join(" ")} failed: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/**
 * `ln -s`: Deno.symlink needs unscoped write permission, which this tool
 * does not ask for.
 */
async function symlink(target: string, path: string): Promise<void> {
  const output = await new Deno.Command("ln", {
    args: ["-s", target, path],
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `ln -s ${target} ${path} failed: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Copies the working tree's files known to git (tracked, or untracked and
 * not ignored) into `<scratch>/<repo name>`, links the build outputs and,
 * when the repository has a `../shared` sibling, links it beside the copy.
 * Returns the copy's root.
 */
async function copyRepository(files: readonly string[]): Promise<string> {
  const scratch = await Deno.makeTempDir({
    dir: "/tmp",
    prefix: "lumen-mutate-",
  });
  scratchDirs.add(scratch);
  try {
    return await fillCopy(scratch, files);
  } catch (error) {
    await removeScratch(scratch);
    throw error;
  }
}

/** Scratch folders not removed yet: removed on Ctrl-C too. */
const scratchDirs = new Set<string>();

async function removeScratch(scratch: string): Promise<void> {
  await Deno.remove(scratch, { recursive: true });
  scratchDirs.delete(scratch);
}

async function fillCopy(
  scratch: string,
  files: readonly string[],
): Promise<string> {
  const copy = join(scratch, ROOT.split("/").at(-1)!);
  await Deno.mkdir(copy);
  const made = new Set<string>();
  for (const file of files) {
    const source = join(ROOT, file);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(source);
    } catch {
      continue; // Deleted in the working tree.
    }
    const target = join(copy, file);
    const dir = dirname(target);
    if (!made.has(dir)) {
      await Deno.mkdir(dir, { recursive: true });
      made.add(dir);
    }
    try {
      if (info.isSymlink) {
        await symlink(await Deno.readLink(source), target);
      } else if (info.isFile) {
        await Deno.copyFile(source, target);
      }
    } catch (error) {
      // Deleted in the working tree while we copied: skipped, as above.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  for (const path of LINKED) {
    if (await exists(join(ROOT, path)) && !await exists(join(copy, path))) {
      await Deno.mkdir(dirname(join(copy, path)), { recursive: true });
      await symlink(join(ROOT, path), join(copy, path));
    }
  }
  const shared = join(dirname(ROOT), "shared");
  if (await exists(shared)) {
    await symlink(shared, join(scratch, "shared"));
  }
  return copy;
}

/** The test run under way, stopped on Ctrl-C. */
let runningTests: Deno.ChildProcess | null = null;

interface RunResult {
  summary: TestSummary | null;
  output: string;
  timedOut: boolean;
}

/** Runs `deno test` on `tests` in `copy` with the test task's permissions. */
async function runTests(
  copy: string,
  tests: readonly string[],
  options: { timeoutS: number; check: boolean },
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      ...(options.check ? [] : ["--no-check"]),
      "--allow-read",
      "--allow-write=/tmp",
      "--allow-env",
      "--allow-net=127.0.0.1,localhost",
      "--allow-run",
      "--allow-sys=homedir",
      // Both spellings: the copy's link and the file it points to.
      `--allow-ffi=${ORT_BIN},${join(ROOT, ORT_BIN)}`,
      ...tests,
    ],
    cwd: copy,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  runningTests = child;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutS * 1000);
  const output = await child.output();
  clearTimeout(timer);
  runningTests = null;
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  return { summary: parseTestSummary(text), output: text, timedOut };
}

/** The last `lines` lines of `text`, for a report. */
function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

interface Outcome {
  mutation: Mutation;
  verdict: Verdict | "PATTERN";
  detail: string;
}

async function runMutation(
  mutation: Mutation,
  files: readonly string[],
  options: { keep: boolean; check: boolean },
): Promise<Outcome> {
  const copy = await copyRepository(files);
  try {
    const path = join(copy, mutation.file);
    let mutated: string;
    try {
      mutated = applyMutation(await Deno.readTextFile(path), mutation);
    } catch (error) {
      return {
        mutation,
        verdict: "PATTERN",
        detail: (error as Error).message,
      };
    }
    await Deno.writeTextFile(path, mutated);
    const run = await runTests(copy, mutation.tests, {
      timeoutS: mutation.timeoutS ?? 600,
      check: options.check,
    });
    const verdict = verdictOf(run.summary);
    const detail = run.timedOut
      ? `timed out after ${mutation.timeoutS ?? 600} s`
      : verdict === "caught"
      ? `failed: ${run.summary!.failures.join("; ") || "(names not found)"}`
      : verdict === "SURVIVED"
      ? `${run.summary!.passed} passed`
      : tail(run.output, 15);
    return { mutation, verdict, detail };
  } finally {
    if (!options.keep) {
      await removeScratch(dirname(copy));
    } else {
      scratchDirs.delete(dirname(copy));
      console.log(`  kept ${copy}`);
    }
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        list: { type: "boolean", default: false },
        keep: { type: "boolean", default: false },
        "no-baseline": { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const unknown = positionals.filter((n) =>
    !MUTATIONS.some((m) => m.name === n)
  );
  if (unknown.length > 0) {
    console.error(
      `Unknown mutation ${
        unknown.map((n) => `"${n}"`).join(", ")
      }: run with --list to see them`,
    );
    return 2;
  }
  const chosen = positionals.length > 0
    ? MUTATIONS.filter((m) => positionals.includes(m.name))
    : MUTATIONS;
  if (values.list) {
    for (const m of chosen) {
      console.log(
        `${m.name}\n  ${m.claim}\n  ${m.file} → ${m.tests.join(", ")}`,
      );
    }
    return 0;
  }
  const files = (await git([
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
  ])).split("\0").filter(Boolean);

  let failed = 0;
  if (!values["no-baseline"]) {
    const sets = [...new Set(chosen.map((m) => m.tests.join(" ")))];
    const copy = await copyRepository(files);
    try {
      for (const set of sets) {
        const tests = set.split(" ");
        const run = await runTests(copy, tests, {
          timeoutS: Math.max(
            ...chosen.filter((m) => m.tests.join(" ") === set).map((m) =>
              m.timeoutS ?? 600
            ),
          ),
          check: values.check,
        });
        const ok = run.summary?.failed === 0 && run.summary.passed > 0;
        console.log(`baseline ${ok ? "ok" : "FAILS"}: ${set}`);
        if (!ok) {
          console.log(tail(run.output, 20));
          failed++;
        }
      }
    } finally {
      await removeScratch(dirname(copy));
    }
    if (failed > 0) {
      console.log(
        "Unmutated tests fail: fix them first (mutations not run)",
      );
      return 1;
    }
  }

  const outcomes: Outcome[] = [];
  for (const mutation of chosen) {
    const outcome = await runMutation(mutation, files, {
      keep: values.keep,
      check: values.check,
    });
    outcomes.push(outcome);
    console.log(`${outcome.verdict.padEnd(8)} ${mutation.name}`);
    console.log(`         ${outcome.detail.split("\n").join("\n         ")}`);
  }
  const caught = outcomes.filter((o) => o.verdict === "caught").length;
  console.log(`\n${caught} of ${outcomes.length} mutations caught`);
  return caught === outcomes.length ? 0 : 1;
}

if (import.meta.main) {
  Deno.addSignalListener("SIGINT", () => {
    try {
      runningTests?.kill("SIGKILL");
    } catch {
      // It had already ended.
    }
    for (const scratch of scratchDirs) {
      Deno.removeSync(scratch, { recursive: true });
    }
    Deno.exit(130);
  });
  Deno.exit(await main());
}
