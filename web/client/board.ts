/// <reference lib="dom" />
/**
 * The row of cards, one per selected method, kept in step with what each
 * method shows: a card is rebuilt only when what it shows changes, so a
 * focused card keeps its focus and a running one its progress bar.
 *
 * @module
 */
import type { RgbImage } from "../../lib/image.ts";
import type { Explanation, ModelInfo } from "./api.ts";
import {
  type ExplanationCard,
  explanationCard,
  failedCard,
  pendingCard,
  type ProgressCard,
  progressCard,
} from "./cards.ts";
import { emptyMapHint } from "./controls.ts";
import { layerName } from "./layers.ts";
import type { Phase } from "./runs.ts";

/** One selected method and where it stands. */
export interface MethodView {
  method: string;
  /** Its explanation, once it can be drawn. */
  result?: Explanation | undefined;
  /** Its phase while pending or after failing. */
  phase?: Phase | undefined;
}

/** What the cards draw with. */
export interface BoardContext {
  imageName: string;
  image: RgbImage | null;
  colormap: string;
  alpha: number;
  /** The model the results are of (its layers' names, what to suggest). */
  model: ModelInfo | null;
  /** Runs the failed methods again. */
  retry(): void;
}

/** The cards of the page. */
export interface Board {
  /** Shows these methods, in this order. */
  render(views: readonly MethodView[], context: BoardContext): void;
  /** Redraws every overlay with another colour map or α. */
  restyle(colormap: string, alpha: number): void;
}

interface Entry {
  element: HTMLElement;
  shows: unknown;
  explanation?: ExplanationCard;
  progress?: ProgressCard;
}

/** What a card shows, compared by identity to keep unchanged cards. */
function showsOf(view: MethodView): unknown {
  if (view.result) return view.result;
  if (view.phase?.kind === "failed") return view.phase;
  if (view.phase?.kind === "waiting" || view.phase?.kind === "running") {
    return "slow";
  }
  return "pending";
}

/** How a card names a layer, and what it suggests for an all-zero map there. */
function layerWords(
  model: ModelInfo | null,
  layer: string,
): { layerName: string; emptyHint: string } {
  const entry = model?.layers.find((l) => l.name === layer);
  return {
    layerName: entry ? layerName(entry) : layer,
    emptyHint: model ? emptyMapHint(model, layer) : "a later layer",
  };
}

function makeEntry(view: MethodView, context: BoardContext): Entry {
  const { method, result, phase } = view;
  const shows = showsOf(view);
  if (result) {
    const made = explanationCard(result, {
      imageName: context.imageName,
      image: context.image,
      colormap: context.colormap,
      alpha: context.alpha,
      ...layerWords(context.model, result.layer),
    });
    return { element: made.card, shows, explanation: made };
  }
  if (phase?.kind === "failed") {
    const element = failedCard(method, phase.text, { retry: context.retry });
    return { element, shows };
  }
  if (shows === "slow") {
    const made = progressCard(method);
    return { element: made.card, shows, progress: made };
  }
  return { element: pendingCard(method, `Computing ${method}…`), shows };
}

/**
 * Makes the board in `container`.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * const board = createBoard(document.getElementById("overlays")!);
 * board.render([{ method: "gradcam", phase: { kind: "fast" } }], context);
 * ```
 */
export function createBoard(container: HTMLElement): Board {
  const entries = new Map<string, Entry>();
  return {
    render(views, context) {
      const wanted = views.map((view) => {
        let entry = entries.get(view.method);
        if (!entry || entry.shows !== showsOf(view)) {
          entry?.explanation?.dispose();
          entry = makeEntry(view, context);
          entries.set(view.method, entry);
        }
        const { phase } = view;
        if (entry.progress && phase?.kind === "waiting") {
          entry.progress.show(phase.text);
        } else if (entry.progress && phase?.kind === "running") {
          entry.progress.show(
            phase.progress ??
              "Running: waiting for the server's first progress report…",
          );
        }
        return entry.element;
      });
      const methods = new Set(views.map((v) => v.method));
      for (const [method, entry] of entries) {
        if (!methods.has(method)) {
          entry.explanation?.dispose();
          entries.delete(method);
        }
      }
      // Move as little as possible: a focused card keeps its focus.
      wanted.forEach((element, i) => {
        if (container.children[i] !== element) {
          container.insertBefore(element, container.children[i] ?? null);
        }
      });
      while (container.children.length > wanted.length) {
        container.lastElementChild?.remove();
      }
      container.setAttribute(
        "aria-busy",
        String(views.some((v) => !v.result && v.phase?.kind !== "failed")),
      );
    },
    restyle(colormap, alpha) {
      for (const entry of entries.values()) {
        entry.explanation?.restyle(colormap, alpha);
      }
    },
  };
}
