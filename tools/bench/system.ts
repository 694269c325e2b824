/**
 * The machine the figures come from: CPU, cores, clock, vector units, the
 * load average, and a process's memory. Deno reads /proc only with every
 * permission, so this asks `cat` (`--allow-run`).
 *
 * @module
 */

/** What the report says about the machine. */
export interface Machine {
  cpu: string;
  /**
   * The x86 CPU family (0 when unknown): AMD's 25 (Zen 3 and 4) splits
   * AVX-512 in two 256-bit halves, 26 (Zen 5) does not, and ResNet-50's
   * forward takes about 1.6× as long on the former at the same clock.
   */
  family: number;
  cores: number;
  /** Nominal clock, MHz (0 when unknown). */
  mhz: number;
  /** Of avx2, fma, avx512f: those the CPU has. */
  vectorFlags: string[];
  /** Peak float32 GFLOP/s at the nominal clock, native code. */
  peakNativeGflops: number;
  deno: string;
}

/**
 * A file under /proc as text; "" when it cannot be read (another OS, a
 * process that has exited).
 *
 * @example
 * ```ts
 * const status = await readProc(`${child.pid}/status`);
 * ```
 */
export async function readProc(name: string): Promise<string> {
  try {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${name}`],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : "";
  } catch {
    return "";
  }
}

/**
 * The CPU and its nominal peak.
 *
 * @example
 * ```ts
 * const { cpu, cores } = await machine();
 * ```
 */
export async function machine(): Promise<Machine> {
  const info = await readProc("cpuinfo");
  const cores = navigator.hardwareConcurrency || 1;
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? 0);
  const flags = new Set(/flags\s*:\s*(.*)/.exec(info)?.[1].split(" "));
  const family = Number(/cpu family\s*:\s*(\d+)/.exec(info)?.[1] ?? 0);
  // Two FMA pipes per core, as wide as the widest vector unit (Zen 5, family
  // 26, has full 512-bit pipes; Zen 4 splits AVX-512 in two 256-bit halves).
  const lanes = flags.has("avx512f") && family >= 26
    ? 16
    : flags.has("avx2")
    ? 8
    : 4;
  return {
    cpu: /model name\s*:\s*(.*)/.exec(info)?.[1] ?? "unknown CPU",
    family,
    cores,
    mhz,
    vectorFlags: ["avx2", "fma", "avx512f"].filter((f) => flags.has(f)),
    peakNativeGflops: cores * lanes * 2 * 2 * mhz / 1e3,
    deno: Deno.version.deno,
  };
}

/**
 * The 1-, 5- and 15-minute load averages ([] when unknown).
 *
 * @example
 * ```ts
 * const [oneMinute] = await loadAverage();
 * ```
 */
export async function loadAverage(): Promise<number[]> {
  const text = await readProc("loadavg");
  return text ? text.split(" ").slice(0, 3).map(Number) : [];
}

/**
 * Peak and current resident memory of a running process, MB (null when it
 * cannot be read).
 *
 * @example
 * ```ts
 * const rss = await processMemory(child.pid); // { peakMb: 612, nowMb: 590 }
 * ```
 */
export async function processMemory(
  pid: number,
): Promise<{ peakMb: number; nowMb: number } | null> {
  const status = await readProc(`${pid}/status`);
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s*(\\d+)`).exec(status)?.[1] ?? NaN);
  const peak = kb("VmHWM");
  if (!Number.isFinite(peak)) return null;
  return { peakMb: peak / 1024, nowMb: kb("VmRSS") / 1024 };
}

/**
 * The Deno that child processes run: `deno` from PATH (as
 * `workers/model_worker.sh` runs it), so that `--allow-run` can be scoped to
 * a name; `Deno.execPath()` may be a path no flag can name ahead of time.
 */
export const DENO = "deno";
