/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Lumen page: pick or drop an image, see the top-5 at once and each
 * method's overlay as it arrives. The fast methods share one request (one
 * model pass); each slow one then runs on its own request with a progress
 * bar, so a slow method never holds up a fast one. The layer and the class
 * re-explain the current image (results already computed with the same
 * settings are kept); the colour map and α only redraw overlays here, from
 * the maps and the image's own pixels.
 *
 * @module
 */
import { COLORMAPS } from "../../lib/colormap.ts";
import type { RgbImage } from "../../lib/image.ts";
import {
  createApi,
  type Explanation,
  type MapSettings,
  type Prediction,
  ProblemError,
  problemsOf,
  type ServerInfo,
} from "./api.ts";
import { createBoard } from "./board.ts";
import { predictionItems } from "./predictions.ts";
import {
  drawLegend,
  emptyMapHint,
  fillLayers,
  fillMethods,
} from "./controls.ts";
import { byId, h } from "./dom.ts";
import { formatMs } from "./format.ts";
import { searchLabels } from "./labels.ts";
import type { Problem } from "./messages.ts";
import { decodeRgb } from "./pixels.ts";
import { createRuns, type Phase } from "./runs.ts";
import { type SlowRunner, sseSlowRunner } from "./slow_runner.ts";

const api = createApi("/graphql");
/** The one place that decides how slow methods run. */
const runSlow: SlowRunner = sseSlowRunner({ uri: "/graphql" });

const ui = {
  status: byId("server-status", HTMLElement),
  form: byId("controls", HTMLFormElement),
  drop: byId("drop", HTMLElement),
  file: byId("file", HTMLInputElement),
  methods: byId("methods", HTMLFieldSetElement),
  layer: byId("layer", HTMLSelectElement),
  layerAbout: byId("layer-about", HTMLElement),
  classChoice: byId("class-choice", HTMLElement),
  classSearch: byId("class-search", HTMLInputElement),
  classResults: byId("class-results", HTMLUListElement),
  classReset: byId("class-reset", HTMLButtonElement),
  colormap: byId("colormap", HTMLSelectElement),
  legend: byId("legend", HTMLCanvasElement),
  alpha: byId("alpha", HTMLInputElement),
  alphaValue: byId("alpha-value", HTMLOutputElement),
  problems: byId("problems", HTMLElement),
  results: byId("results", HTMLElement),
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
  /** The image's pixels; undefined while decoding, null if that failed. */
  image: RgbImage | null | undefined;
  predictions: Prediction[] | null;
  /** Explanations of the current image, by method, for `resultsKey`. */
  results: Map<string, Explanation>;
  /** The layer and class the results were made with ("" to start over). */
  resultsKey: string;
  /** Methods asked for and not arrived yet. */
  phases: Map<string, Phase>;
  startedAt: number;
  firstResultMs: number | null;
}

const state: State = {
  info: null,
  file: null,
  imageUrl: null,
  image: undefined,
  predictions: null,
  results: new Map(),
  resultsKey: "",
  phases: new Map(),
  startedAt: 0,
  firstResultMs: null,
};

/** The class chosen by the person; null for each image's top-1. */
let chosenClass: number | null = null;

function selectedMethods(): string[] {
  return [...ui.methods.querySelectorAll<HTMLInputElement>("input:checked")]
    .map((input) => input.value);
}

function mapSettings(): MapSettings {
  return { layer: ui.layer.value || null, classIndex: chosenClass };
}

function style(): { colormap: string; alpha: number } {
  return { colormap: ui.colormap.value, alpha: Number(ui.alpha.value) };
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

function renderPredictions(): void {
  ui.predictions.replaceChildren(
    ...predictionItems(state.predictions ?? [], chosenClass, chooseClass),
  );
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

const board = createBoard(ui.overlays);

function renderCards(): void {
  const info = state.info;
  const image = state.image;
  board.render(
    selectedMethods().map((method) => ({
      method,
      // Drawn once the image's pixels are known.
      result: image === undefined ? undefined : state.results.get(method),
      phase: state.phases.get(method),
    })),
    {
      imageName: state.file?.name ?? "image",
      image: image ?? null,
      ...style(),
      emptyHint: (layer) =>
        info ? emptyMapHint(info.model, layer) : "a later layer",
      retry: () => explain(),
    },
  );
}

function restyleCards(): void {
  const { colormap, alpha } = style();
  board.restyle(colormap, alpha);
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

function received(explanation: Explanation): void {
  state.firstResultMs ??= performance.now() - state.startedAt;
  state.results.set(explanation.method, explanation);
  renderCards();
  renderTimings();
}

const runs = createRuns({
  explainFast: api.explain,
  runSlow,
  isSlow: (method) =>
    state.info?.explainers.some((e) => e.name === method && e.slow) ?? false,
  events: {
    predictions(predictions) {
      state.predictions = predictions;
      renderPredictions();
    },
    explanation: received,
    phase(method, phase) {
      if (phase) state.phases.set(method, phase);
      else state.phases.delete(method);
      renderCards();
    },
    problems: showProblems,
  },
});

/** Explains the current image with the current settings, as needed. */
function explain(): void {
  const file = state.file;
  if (!file || !state.info) return;
  const settings = mapSettings();
  const key = JSON.stringify(settings);
  if (key !== state.resultsKey) {
    state.results.clear();
    state.phases.clear();
    state.resultsKey = key;
    state.startedAt = performance.now();
    state.firstResultMs = null;
    runs.start(file, { ...settings, predictions: state.predictions === null });
  }
  showProblems([]);
  const methods = selectedMethods();
  if (methods.length === 0) {
    showProblems([{
      code: "NO_METHOD",
      title: "Choose at least one method to see an overlay.",
      detail: "",
      retry: false,
    }]);
  }
  runs.want(methods.filter((m) => !state.results.has(m)));
  renderCards();
}

function useFile(file: File): void {
  runs.cancel();
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  state.file = file;
  state.imageUrl = URL.createObjectURL(file);
  state.image = undefined;
  state.predictions = null;
  state.results.clear();
  state.resultsKey = "";
  chosenClass = null;
  renderClassChoice();
  renderPredictions();
  ui.original.hidden = false;
  ui.original.alt = `The image to explain: ${file.name}`;
  ui.original.src = state.imageUrl;
  ui.originalCaption.textContent = file.name;
  ui.timings.textContent = "";
  decodeRgb(file).then((image) => image, () => null).then((image) => {
    if (state.file !== file) return;
    state.image = image;
    renderCards();
  });
  explain();
  showResults();
}

/**
 * On a narrow screen the results start below the settings: bring them into
 * view (and focus, for screen readers) so choosing a photo visibly does
 * something.
 */
function showResults(): void {
  if (ui.results.getBoundingClientRect().top < globalThis.innerHeight / 2) {
    return;
  }
  const still = globalThis.matchMedia("(prefers-reduced-motion: reduce)");
  ui.results.focus({ preventScroll: true });
  ui.results.scrollIntoView({
    block: "start",
    behavior: still.matches ? "auto" : "smooth",
  });
}

function fillControls(info: ServerInfo): void {
  const preferred = info.explainers.some((e) => e.name === "gradcam")
    ? "gradcam"
    : info.explainers[0]?.name;
  fillMethods(ui.methods, info.explainers, preferred);
  fillLayers(ui.layer, ui.layerAbout, info.model);
  const { model } = info;
  ui.status.textContent = `${model.name} on ${model.backend}${
    model.adapter ? ` (${model.adapter})` : ""
  } · ${model.labels.length} classes · ${info.explainers.length} methods`;
  ui.status.dataset.state = "ready";
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

/** Redraws at most once per frame while the α slider moves. */
let restyleFrame = 0;
function scheduleRestyle(): void {
  if (restyleFrame) return;
  restyleFrame = requestAnimationFrame(() => {
    restyleFrame = 0;
    restyleCards();
  });
}

function wire(): void {
  for (const name of COLORMAPS) {
    ui.colormap.append(
      h("option", { value: name, selected: name === "jet" }, name),
    );
  }
  drawLegend(ui.legend, ui.colormap.value);
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
    drawLegend(ui.legend, ui.colormap.value);
    restyleCards();
  });
  ui.alpha.addEventListener("input", () => {
    ui.alphaValue.value = Number(ui.alpha.value).toFixed(2);
    scheduleRestyle();
  });
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
