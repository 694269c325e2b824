/**
 * Structured logging: one JSON object per line, `{"level", "msg", ...}`.
 *
 * @module
 */

/** Severity of a log entry. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Writes one log entry; `fields` are merged into the JSON line. */
export type Logger = (
  level: LogLevel,
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** A logger that drops everything (the default in tests). */
export const silentLogger: Logger = () => {};

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

/**
 * A logger writing JSON lines through `write` (stderr by default); entries
 * below `level` are dropped. Errors in `fields` are written with their
 * stack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const log = jsonLogger({ level: "info", write: (line) => lines.push(line) });
 * log("info", "listening", { port: 8000 });
 * log("debug", "dropped: below info");
 * assert.deepEqual(lines, ['{"level":"info","msg":"listening","port":8000}']);
 * ```
 */
export function jsonLogger(
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  const min = order.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => console.error(line));
  return (level, msg, fields = {}) => {
    if (order.indexOf(level) < min) return;
    const entry: Record<string, unknown> = { level, msg };
    for (const [key, value] of Object.entries(fields)) {
      if (key !== "level" && key !== "msg") entry[key] = plain(value);
    }
    write(JSON.stringify(entry));
  };
}
