/**
 * The pieces of `deno task explain` (see `cli.ts` at the root): argument
 * parsing, the batch loop, the progress bar, the HTML report, and the
 * client of a running server (`--server`).
 *
 * @module
 */
export * from "./args.ts";
export * from "./explain_files.ts";
export * from "./progress.ts";
export * from "./report.ts";
export * from "./exit.ts";
export * from "./remote.ts";
