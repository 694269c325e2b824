/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Lumen page: pick or drop an image, see the top-5 at once and each
 * method's overlay as it arrives. Settings (methods, layer, class, colour
 * map, α) re-explain the current image; results already computed with the
 * same settings are kept, so adding a method asks only for that method.
 *
 * @module
 */
import { colormapLut, COLORMAPS } from "../../lib/colormap.ts";
import {
  createApi,
  type ExplainSettings,
  type Explanation,
  type Prediction,
  ProblemError,
  problemsOf,
  type ServerInfo,
} from "./api.ts";
import { explanationCard, failedCard, pendingCard } from "./cards.ts";
import { byId, h } from "./dom.ts";
import { formatMs, formatPercent } from "./format.ts";
import { displayLabel, searchLabels } from "./labels.ts";
import type { Problem } from "./messages.ts";

const api = createApi("/graphql");

const ui = {
  status: byId("server-status", HTMLElement),
  form: byId("controls", HTMLFormElement),
  drop: byId("drop", HTMLElement),
  file: byId("file", HTMLInputElement),
  methods: byId("methods", HTMLFieldSetElement),
  layer: byId("layer", HTMLSelectElement),
  classChoice: byId("class-choice", HTMLElement),
  classSearch: byId("class-search", HTMLInputElement),
  classResults: byId("class-results", HTMLUListElement),
  classReset: byId("class-reset", HTMLButtonElement),
  colormap: byId("colormap", HTMLSelectElement),
  legend: byId("legend", HTMLCanvasElement),
  alpha: byId("alpha", HTMLInputElement),
  alphaValue: byId("alpha-value", HTMLOutputElement),
  problems: byId("problems", HTMLElement),
  original: byId("original", HTMLImageElement),
  originalCaption: byId("original-caption", HTMLElement),
  predictions: byId("predictions", HTMLOListElement),
  overlays: byId("overlays", HTMLElement),
  timings: byId("timings", HTMLElement),
};

interface State {
  info: ServerInfo | null;
  file: File | null;
  imageUrl: string | null;
  predictions: Prediction[] | null;
  /** Explanations of the current image, by method, for `resultsKey`. */
  results: Map<string, Explanation>;
  /** The settings (all but the methods) the results were made with. */
  resultsKey: string;
  /** Methods asked for and not arrived yet; failed ones with a reason. */
  pending: Set<string>;
  failed: Map<string, string>;
  cancel: (() => void) | null;
  startedAt: number;
  firstResultMs: number | null;
}

const state: State = {
  info: null,
  file: null,
  imageUrl: null,
  predictions: null,
  results: new Map(),
  resultsKey: "",
  pending: new Set(),
  failed: new Map(),
  cancel: null,
  startedAt: 0,
  firstResultMs: null,
};

/** The class chosen by the person; null for each image's top-1. */
let chosenClass: number | null = null;

function settings(): ExplainSettings {
  const methods = [
    ...ui.methods.querySelectorAll<HTMLInputElement>("input:checked"),
  ].map((input) => input.value);
  return {
    methods,
    layer: ui.layer.value || null,
    classIndex: chosenClass,
    colormap: ui.colormap.value,
    alpha: Number(ui.alpha.value),
  };
}

function keyOf(s: ExplainSettings): string {
  return JSON.stringify([s.layer, s.classIndex, s.colormap, s.alpha]);
}

function showProblems(problems: readonly Problem[]): void {
  const retry = problems.some((p) => p.retry) && state.file !== null;
  ui.problems.replaceChildren(
    ...problems.map((p) =>
      h(
        "div",
        { class: "problem", "data-code": p.code },
        h("strong", {}, p.title),
        p.detail ? h("span", { class: "detail" }, ` ${p.detail}`) : null,
        h("span", { class: "code" }, ` (${p.code})`),
      )
    ),
    ...(retry
      ? [h("button", { type: "button", onclick: () => explain() }, "Try again")]
      : []),
  );
}

/** A probability bar (sized through CSSOM: the CSP forbids style attributes). */
function bar(probability: number): HTMLElement {
  const element = h("span", { class: "bar", "aria-hidden": "true" });
  element.style.width = `${Math.max(1, probability * 100)}%`;
  return element;
}

function renderPredictions(): void {
  const predictions = state.predictions ?? [];
  ui.predictions.replaceChildren(...predictions.map((p) => {
    const chosen = chosenClass === p.classIndex;
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: chosen ? "prediction chosen" : "prediction",
          "aria-pressed": chosen ? "true" : "false",
          title: `Explain ${displayLabel(p.label)}`,
          onclick: () => chooseClass(chosen ? null : p.classIndex),
        },
        h("span", { class: "label" }, p.label),
        h("span", { class: "probability" }, formatPercent(p.probability)),
        bar(p.probability),
      ),
    );
  }));
}

function renderClassChoice(): void {
  const labels = state.info?.model.labels ?? [];
  ui.classChoice.textContent = chosenClass === null
    ? "Explaining each image's top-1 class."
    : `Explaining ${labels[chosenClass] ?? ""} (class ${chosenClass}).`;
  ui.classReset.hidden = chosenClass === null;
}

function chooseClass(classIndex: number | null): void {
  chosenClass = classIndex;
  renderClassChoice();
  renderPredictions();
  explain();
}

/** The card shown per method, with what it shows (to reuse unchanged ones). */
const cards = new Map<
  string,
  { element: HTMLElement; shows: Explanation | string; dispose?: () => void }
>();

function renderCards(): void {
  const s = settings();
  const wanted = s.methods.map((method) => {
    const shows: Explanation | string = state.results.get(method) ??
      (state.failed.has(method)
        ? `failed:${state.failed.get(method)}`
        : "pending");
    const cached = cards.get(method);
    if (cached && cached.shows === shows) return cached.element;
    cached?.dispose?.();
    let entry: { element: HTMLElement; dispose?: () => void };
    if (typeof shows !== "string") {
      const made = explanationCard(shows, {
        imageName: state.file?.name ?? "image",
        colormap: s.colormap,
        alpha: s.alpha,
      });
      entry = { element: made.card, dispose: made.dispose };
    } else if (shows === "pending") {
      entry = { element: pendingCard(method, `Computing ${method}…`) };
    } else {
      entry = { element: failedCard(method, state.failed.get(method) ?? "") };
    }
    cards.set(method, { ...entry, shows });
    return entry.element;
  });
  for (const [method, cached] of cards) {
    if (!s.methods.includes(method)) {
      cached.dispose?.();
      cards.delete(method);
    }
  }
  // Move as little as possible: a focused card keeps its focus.
  wanted.forEach((element, i) => {
    if (ui.overlays.children[i] !== element) {
      ui.overlays.insertBefore(element, ui.overlays.children[i] ?? null);
    }
  });
  while (ui.overlays.children.length > wanted.length) {
    ui.overlays.lastElementChild?.remove();
  }
  ui.overlays.setAttribute("aria-busy", String(state.pending.size > 0));
}

function renderTimings(): void {
  const first = [...state.results.values()][0];
  const parts: string[] = [];
  if (state.info) parts.push(`backend ${state.info.model.backend}`);
  if (first) {
    parts.push(`decode ${formatMs(first.timings.decode)}`);
    parts.push(`forward ${formatMs(first.timings.forward)}`);
  }
  if (state.firstResultMs !== null) {
    parts.push(`first overlay after ${formatMs(state.firstResultMs)}`);
  }
  ui.timings.textContent = parts.join(" · ");
}

/** Explains the current image with the current settings, as needed. */
function explain(): void {
  const file = state.file;
  if (!file || !state.info) return;
  const s = settings();
  const key = keyOf(s);
  if (key !== state.resultsKey) {
    state.results.clear();
    state.resultsKey = key;
  }
  state.cancel?.();
  state.cancel = null;
  state.failed.clear();
  showProblems([]);
  const missing = s.methods.filter((m) => !state.results.has(m));
  state.pending = new Set(missing);
  renderCards();
  if (missing.length === 0 && state.predictions) return;
  if (s.methods.length === 0) {
    showProblems([{
      code: "NO_METHOD",
      title: "Choose at least one method to see an overlay.",
      detail: "",
      retry: false,
    }]);
    return;
  }
  state.startedAt = performance.now();
  state.firstResultMs = null;
  state.cancel = api.explain(file, { ...s, methods: missing }, {
    onPredictions(predictions) {
      if (state.file !== file) return;
      state.predictions = predictions;
      renderPredictions();
    },
    onExplanation(explanation) {
      if (state.file !== file || keyOf(settings()) !== key) return;
      state.firstResultMs ??= performance.now() - state.startedAt;
      state.results.set(explanation.method, explanation);
      state.pending.delete(explanation.method);
      renderCards();
      renderTimings();
    },
    onProblems(problems) {
      if (state.file !== file) return;
      showProblems(problems);
    },
    onDone() {
      if (state.file !== file) return;
      const reason = ui.problems.textContent ? "Not computed: see above." : "";
      for (const method of state.pending) {
        state.failed.set(method, reason || "Not computed.");
      }
      state.pending.clear();
      state.cancel = null;
      renderCards();
      renderTimings();
    },
  });
}

function useFile(file: File): void {
  state.cancel?.();
  state.cancel = null;
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  state.file = file;
  state.imageUrl = URL.createObjectURL(file);
  state.predictions = null;
  state.results.clear();
  state.failed.clear();
  chosenClass = null;
  renderClassChoice();
  renderPredictions();
  ui.original.hidden = false;
  ui.original.alt = `The image to explain: ${file.name}`;
  ui.original.src = state.imageUrl;
  ui.originalCaption.textContent = file.name;
  ui.timings.textContent = "";
  explain();
}

function fillControls(info: ServerInfo): void {
  ui.methods.querySelectorAll(".method").forEach((node) => node.remove());
  const preferred = info.explainers.some((e) => e.name === "gradcam")
    ? "gradcam"
    : info.explainers[0]?.name;
  for (const explainer of info.explainers) {
    const id = `method-${explainer.name}`;
    ui.methods.append(
      h(
        "div",
        { class: "method" },
        h("input", {
          type: "checkbox",
          id,
          name: "method",
          value: explainer.name,
          checked: explainer.name === preferred,
          "aria-describedby": `${id}-about`,
        }),
        h("label", { for: id }, explainer.name),
        h("span", { id: `${id}-about`, class: "about" }, explainer.description),
      ),
    );
  }
  const { model } = info;
  ui.layer.replaceChildren(
    ...model.layers.filter((layer) => layer.explainable).map((layer) =>
      h(
        "option",
        { value: layer.name, selected: layer.name === model.defaultLayer },
        `${layer.name} (${layer.shape.join("×")})${
          layer.name === model.defaultLayer ? " — recommended" : ""
        }`,
      )
    ),
  );
  ui.layer.value = model.defaultLayer;
  ui.status.textContent = `${model.name} on ${model.backend}${
    model.adapter ? ` (${model.adapter})` : ""
  } · ${model.labels.length} classes · ${info.explainers.length} methods`;
  ui.status.dataset.state = "ready";
}

function drawLegend(): void {
  const context = ui.legend.getContext("2d");
  if (!context) return;
  const lut = colormapLut(ui.colormap.value);
  const pixels = context.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    pixels.data.set([lut[3 * i], lut[3 * i + 1], lut[3 * i + 2], 255], 4 * i);
  }
  ui.legend.width = 256;
  ui.legend.height = 1;
  context.putImageData(pixels, 0, 0);
  ui.legend.setAttribute(
    "aria-label",
    `Colour scale of ${ui.colormap.value}: map value 0 on the left, 1 on the right`,
  );
}

function renderSearch(): void {
  const labels = state.info?.model.labels ?? [];
  const matches = searchLabels(labels, ui.classSearch.value);
  ui.classResults.replaceChildren(...matches.map((m) =>
    h(
      "li",
      {},
      h("button", {
        type: "button",
        onclick: () => {
          ui.classSearch.value = "";
          ui.classResults.replaceChildren();
          chooseClass(m.classIndex);
        },
      }, `${m.label} (${m.classIndex})`),
    )
  ));
}

async function connect(): Promise<void> {
  try {
    state.info = await api.serverInfo();
  } catch (error) {
    const problems = error instanceof ProblemError
      ? error.problems
      : problemsOf(error);
    ui.status.textContent = problems[0].title;
    ui.status.dataset.state = "waiting";
    if (problems[0].retry) setTimeout(connect, 1000);
    return;
  }
  fillControls(state.info);
  explain();
}

function wire(): void {
  for (const name of COLORMAPS) {
    ui.colormap.append(
      h("option", { value: name, selected: name === "jet" }, name),
    );
  }
  drawLegend();
  ui.file.addEventListener("change", () => {
    const file = ui.file.files?.[0];
    if (file) useFile(file);
  });
  // The whole page takes drops, not only the drop zone.
  document.addEventListener("dragover", (event) => {
    event.preventDefault();
    ui.drop.classList.add("dragging");
  });
  document.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) ui.drop.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    ui.drop.classList.remove("dragging");
    const file = event.dataTransfer?.files[0];
    if (file) useFile(file);
  });
  ui.methods.addEventListener("change", explain);
  ui.layer.addEventListener("change", explain);
  ui.colormap.addEventListener("change", () => {
    drawLegend();
    explain();
  });
  ui.alpha.addEventListener("input", () => {
    ui.alphaValue.value = Number(ui.alpha.value).toFixed(2);
  });
  ui.alpha.addEventListener("change", explain);
  ui.classSearch.addEventListener("input", renderSearch);
  ui.classSearch.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    ui.classResults.querySelector("button")?.click();
  });
  ui.classReset.addEventListener("click", () => chooseClass(null));
  ui.form.addEventListener("submit", (event) => event.preventDefault());
  ui.original.addEventListener("error", () => {
    ui.original.hidden = true;
  });
  renderClassChoice();
}

wire();
connect();
