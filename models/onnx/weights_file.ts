/**
 * A model's weights in a file on disk, for ONNX Runtime to read, instead of
 * in this process's memory. Measured on the shipped ResNet-50 (2-core AMD
 * EPYC, ONNX Runtime 1.30): a session of its 94 MB of conv weights made
 * from in-memory external data raises the peak resident memory by 370 MB
 * (the JS copy, ONNX Runtime's copy, its layout transforms and what glibc
 * keeps of them) and takes 1.5 s; made from a file, by 185 MB in 0.9 s.
 *
 * The file is named by the SHA-256 of its bytes, so that the worker
 * processes of one server, and the next process after a restart or a kill,
 * share one file per model instead of leaving one each; it is written
 * under a temporary name and renamed, so a reader never sees half of it,
 * and every load writes it again, so that files unused for a month (old
 * versions of models) can be swept.
 * The process keeps it open: a file deleted while in use (a temp cleaner,
 * a user clearing the folder) is put back from that handle before the next
 * session reads it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ExternalData } from "./proto.ts";

/** Tensors start at multiples of this: a cache line. */
const ALIGN = 64;

/** A temporary file older than this was left by a killed writer. */
const STALE_MS = 60 * 60 * 1000;

/**
 * A weights file no process has written for this long belongs to a model
 * no longer served (every load rewrites its file, which renews it); one a
 * long-running process still uses is put back by its `ensure()`.
 */
const UNUSED_MS = 30 * 24 * 60 * 60 * 1000;

/** An open weights file (see the module doc). */
export interface WeightsFile {
  /** The folder ONNX Runtime resolves `location`s in. */
  readonly folder: string;
  /** The file's name in `folder`: the `location` of every tensor in it. */
  readonly name: string;
  /** Reads back the bytes of a tensor stored in this file. */
  read(ref: ExternalData): Uint8Array;
  /** Puts the file back in its folder if it was deleted since it was written. */
  ensure(): void;
  /** Closes this process's handle (the file stays for other processes). */
  close(): void;
}

/**
 * Writes `tensors` into one file in `folder` (made if missing) and returns
 * it, open, with where each tensor is in it. Throws when the folder cannot
 * be written (the caller may keep the weights in memory instead).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const folder = await Deno.makeTempDir();
 * const tensors = [new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(7)];
 * const { file, refs } = writeWeightsFile(folder, tensors);
 * assert.equal(refs[1]?.offset, 64); // aligned to a cache line
 * assert.deepEqual(file.read(refs[0]!), new Uint8Array([1, 2, 3]));
 * // Same bytes, same file: a second writer replaces it with its copy.
 * const again = writeWeightsFile(folder, tensors);
 * assert.equal(again.file.name, file.name);
 * assert.equal([...Deno.readDirSync(folder)].length, 1);
 * file.close();
 * again.file.close();
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export function writeWeightsFile(
  folder: string,
  tensors: readonly Uint8Array[],
): { file: WeightsFile; refs: ExternalData[] } {
  Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
  sweepStale(folder);
  const temp = `${folder}/${crypto.randomUUID()}.tmp`;
  const hash = createHash("sha256");
  const refs: ExternalData[] = [];
  const out = Deno.openSync(temp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    let offset = 0;
    for (const bytes of tensors) {
      const start = Math.ceil(offset / ALIGN) * ALIGN;
      if (start > offset) {
        const gap = new Uint8Array(start - offset);
        writeAll(out, gap);
        hash.update(gap);
      }
      writeAll(out, bytes);
      hash.update(bytes);
      refs.push({ location: "", offset: start, length: bytes.byteLength });
      offset = start + bytes.byteLength;
    }
  } catch (error) {
    out.close();
    Deno.removeSync(temp);
    throw error;
  }
  out.close();
  const name = `${hash.digest("hex").slice(0, 32)}.weights`;
  Deno.renameSync(temp, `${folder}/${name}`);
  for (const ref of refs) ref.location = name;
  return { file: openWeightsFile(folder, name), refs };
}

/**
 * `write(folder)`'s result, or null when `folder` is null or the write
 * fails (said in `log`): the caller keeps the weights in memory then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const said: string[] = [];
 * const file = inWeightsFolder("/proc/no-such-folder", (folder) => writeWeightsFile(folder, []), (m) => said.push(m));
 * assert.equal(file, null);
 * assert.match(said[0]!, /^Weights stay in memory: cannot write to \/proc\/no-such-folder: /);
 * ```
 */
export function inWeightsFolder<T>(
  folder: string | null,
  write: (folder: string) => T,
  log?: ((message: string) => void) | undefined,
): T | null {
  if (folder === null) return null;
  try {
    return write(folder);
  } catch (error) {
    log?.(
      `Weights stay in memory: cannot write to ${folder}: ${
        (error as Error).message
      }`,
    );
    return null;
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) {
    at += file.writeSync(bytes.subarray(at));
  }
}

function readAll(file: Deno.FsFile, into: Uint8Array): void {
  for (let at = 0; at < into.length;) {
    const n = file.readSync(into.subarray(at));
    if (n === null) throw new Error("Weights file error: the file is short");
    at += n;
  }
}

/**
 * Removes temporary files that writers killed mid-write left behind, and
 * weights files unused for a month (old versions of models).
 */
function sweepStale(folder: string): void {
  const now = Date.now();
  for (const entry of Deno.readDirSync(folder)) {
    const age = entry.name.endsWith(".tmp")
      ? STALE_MS
      : /^[0-9a-f]{32}\.weights$/.test(entry.name)
      ? UNUSED_MS
      : null;
    if (!entry.isFile || age === null) continue;
    const path = `${folder}/${entry.name}`;
    try {
      const mtime = Deno.statSync(path).mtime?.getTime() ?? now;
      if (now - mtime > age) Deno.removeSync(path);
    } catch {
      // Another process swept it first.
    }
  }
}

function openWeightsFile(folder: string, name: string): WeightsFile {
  const path = `${folder}/${name}`;
  const handle = Deno.openSync(path, { read: true });
  const size = handle.statSync().size;
  return {
    folder,
    name,
    read(ref) {
      if (ref.location !== name) {
        throw new Error(`Weights file error: ${ref.location} is not ${name}`);
      }
      const bytes = new Uint8Array(ref.length);
      handle.seekSync(ref.offset, Deno.SeekMode.Start);
      readAll(handle, bytes);
      return bytes;
    },
    ensure() {
      try {
        if (Deno.statSync(path).size === size) return;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
      const temp = `${folder}/${crypto.randomUUID()}.tmp`;
      const out = Deno.openSync(temp, { write: true, createNew: true });
      try {
        const chunk = new Uint8Array(8 << 20);
        handle.seekSync(0, Deno.SeekMode.Start);
        for (let left = size; left > 0;) {
          const part = chunk.subarray(0, Math.min(left, chunk.length));
          readAll(handle, part);
          writeAll(out, part);
          left -= part.length;
        }
      } finally {
        out.close();
      }
      Deno.renameSync(temp, path);
    },
    close() {
      handle.close();
    },
  };
}
