/**
 * A stand-in for the model work that the app plugs in later: a runner doing
 * real, deterministic CPU work in batches, checking its signal and
 * reporting progress between batches, and yielding to the event loop after
 * each (as the real runner keeps the loop free by working off-thread).
 *
 * @module
 */
import { clientError } from "../../lib/errors.ts";
import type { JobRunner } from "../../jobs/mod.ts";

/** What a test job asks for. */
export interface CpuPayload {
  /** A name the test picks, echoed in the runner's events. */
  tag: string;
  batches: number;
  /**
   * Mixing rounds per batch (~2 ms per 1 000 000 on these machines).
   * @default 1_000_000
   */
  work?: number;
  /** Throw before batch `failAt` (default 0): a client or internal error. */
  fail?: "client" | "internal";
  failAt?: number;
}

/** The result: a checksum over every batch, so nothing can be skipped. */
export interface CpuResult {
  tag: string;
  checksum: number;
}

/** What the runner did, for tests to check. */
export type RunnerEvent =
  | { event: "start"; tag: string }
  | { event: "batch"; tag: string; index: number }
  /** `abortedAfter`: batches done when the signal aborted (null: never). */
  | { event: "end"; tag: string; done: number; abortedAfter: number | null };

function mixBatch(state: number, index: number, work: number): number {
  let x = (state ^ Math.imul(index + 1, 0x9e3779b1)) | 0;
  for (let i = 0; i < work; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

/** The checksum a successful run of `payload` returns. */
export function expectedChecksum(payload: CpuPayload): number {
  let state = 0x2545f491;
  for (let index = 0; index < payload.batches; index++) {
    state = mixBatch(state, index, payload.work ?? 1_000_000);
  }
  return state;
}

/** The runner; `onEvent` sees what it does. */
export function cpuRunner(
  onEvent: (event: RunnerEvent) => void = () => {},
): JobRunner<CpuPayload, CpuResult> {
  return async (payload, { signal, onProgress }) => {
    const { tag } = payload;
    let done = 0;
    let abortedAfter: number | null = null;
    const onAbort = () => abortedAfter = done;
    signal.addEventListener("abort", onAbort, { once: true });
    onEvent({ event: "start", tag });
    try {
      let state = 0x2545f491;
      for (let index = 0; index < payload.batches; index++) {
        signal.throwIfAborted();
        if (payload.fail && index === (payload.failAt ?? 0)) {
          if (payload.fail === "client") {
            throw clientError("BAD_USER_INPUT", `Job "${tag}" asked to fail`);
          }
          throw new TypeError(`Internal failure in "${tag}"`);
        }
        state = mixBatch(state, index, payload.work ?? 1_000_000);
        done++;
        onEvent({ event: "batch", tag, index });
        onProgress(done / payload.batches);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return { tag, checksum: state };
    } finally {
      signal.removeEventListener("abort", onAbort);
      onEvent({ event: "end", tag, done, abortedAfter });
    }
  };
}
