/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Lumen page: pick or drop an image, see the top-5 at once and each
 * method's overlay as it arrives. The fast methods share one request (one
 * model pass); each slow one then runs as a job on the server with a
 * progress bar, so a slow method never holds up a fast one, and a job the
 * page no longer needs is cancelled. The model (when the server offers
 * several), the layer and the class re-explain the current image (results
 * already computed with the same settings are kept); the colour map and α
 * only redraw overlays here, from the maps and the image's own pixels.
 *
 * @module
 */
import { COLORMAPS } from "../../lib/colormap.ts";
import type { RgbImage } from "../../lib/image.ts";
import {
  createApi,
  type Explanation,
  type MapSettings,
  type ModelInfo,
  type Prediction,
  ProblemError,
  problemsOf,
  type ServerInfo,
} from "./api.ts";
import { createBoard } from "./board.ts";
import { createClassPicker } from "./class_picker.ts";
import { predictionItems } from "./predictions.ts";
import {
  describeModel,
  drawLegend,
  fillLayers,
  fillMethods,
  fillModels,
} from "./controls.ts";
import { bringIntoView, byId, h } from "./dom.ts";
import { wireFileDrop } from "./file_drop.ts";
import { timingsLine } from "./format.ts";
import { jobSlowRunner } from "./job_runner.ts";
import type { Problem } from "./messages.ts";
import { problemNodes } from "./problem_list.ts";
import { decodeRgb } from "./pixels.ts";
import { createRuns, type Phase } from "./runs.ts";
import type { SlowRunner } from "./slow_runner.ts";

const api = createApi("/graphql");
/** The one place that decides how slow methods run: as jobs. */
const runSlow: SlowRunner = jobSlowRunner({ uri: "/graphql" });

const ui = {
  status: byId("server-status", HTMLElement),
  form: byId("controls", HTMLFormElement),
  drop: byId("drop", HTMLElement),
  file: byId("file", HTMLInputElement),
  modelField: byId("model-field", HTMLElement),
  model: byId("model", HTMLSelectElement),
  modelAbout: byId("model-about", HTMLElement),
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
  /** What the server offers; `model` is the model in use. */
  info: ServerInfo | null;
  /** The model being loaded after the person picked it; null once in use. */
  loadingModel: string | null;
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
  loadingModel: null,
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

function selectedMethods(): string[] {
  return [...ui.methods.querySelectorAll<HTMLInputElement>("input:checked")]
    .map((input) => input.value);
}

function mapSettings(): MapSettings {
  return {
    model: state.info?.model.name ?? null,
    layer: ui.layer.value || null,
    classIndex: classes.chosen,
  };
}

function style(): { colormap: string; alpha: number } {
  return { colormap: ui.colormap.value, alpha: Number(ui.alpha.value) };
}

function showProblems(problems: readonly Problem[]): void {
  const retry = problems.some((p) => p.retry) && state.file !== null;
  ui.problems.replaceChildren(
    ...problemNodes(problems, retry ? () => explain() : null),
  );
}

function renderPredictions(): void {
  ui.predictions.replaceChildren(
    ...predictionItems(state.predictions ?? [], {
      chosen: classes.chosen,
      choose: (classIndex) => classes.choose(classIndex),
    }),
  );
}

const classes = createClassPicker({
  choice: ui.classChoice,
  search: ui.classSearch,
  results: ui.classResults,
  reset: ui.classReset,
}, {
  labels: () => state.info?.model.labels ?? [],
  onChoose() {
    renderPredictions();
    explain();
  },
});

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
      model: info?.model ?? null,
      retry: () => explain(),
    },
  );
}

function restyleCards(): void {
  const { colormap, alpha } = style();
  board.restyle(colormap, alpha);
}

function renderTimings(): void {
  ui.timings.textContent = timingsLine({
    backend: state.info?.model.backend ?? null,
    timings: [...state.results.values()][0]?.timings ?? null,
    firstResultMs: state.firstResultMs,
  });
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
  if (!file || !state.info || state.loadingModel) return;
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
  classes.clear();
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
  // On a narrow screen the results start below the settings.
  bringIntoView(ui.results);
}

/** Shows the model in use: its layers, its line, the status. */
function showModel(info: ServerInfo): void {
  const { model } = info;
  fillLayers({ select: ui.layer, about: ui.layerAbout }, model);
  ui.model.value = model.name;
  ui.modelAbout.textContent = describeModel(model);
  ui.status.textContent = `${model.name} on ${model.backend}${
    model.adapter ? ` (${model.adapter})` : ""
  } · ${model.labels.length} classes · ${info.explainers.length} methods`;
  ui.status.dataset.state = "ready";
}

function fillControls(info: ServerInfo): void {
  const preferred = info.explainers.some((e) => e.name === "gradcam")
    ? "gradcam"
    : info.explainers[0]?.name;
  fillMethods(ui.methods, info.explainers, { preferred });
  fillModels(
    { select: ui.model, field: ui.modelField },
    { models: info.models, current: info.model.name },
  );
  showModel(info);
}

/** Counts model choices, so that only the latest one's answer is used. */
let modelChoice = 0;

/**
 * Switches to another model: everything computed or running for the old
 * one stops (its jobs are cancelled), the model is described (the server
 * loads it on first use), then its layers, classes and the current image's
 * explanations follow. A model that fails to load leaves the old one in use.
 */
async function chooseModel(name: string): Promise<void> {
  const info = state.info;
  if (!info) return;
  const choice = ++modelChoice;
  runs.cancel();
  state.loadingModel = name;
  state.results.clear();
  state.phases.clear();
  state.resultsKey = "";
  state.predictions = null;
  classes.clear();
  renderPredictions();
  renderCards();
  ui.status.textContent = `Loading ${name}…`;
  ui.status.dataset.state = "loading";
  ui.modelAbout.textContent = `Loading ${name}: the first use of a model ` +
    "can take a few seconds.";
  let model: ModelInfo;
  try {
    model = await api.modelInfo(name);
  } catch (error) {
    if (choice !== modelChoice) return;
    state.loadingModel = null;
    showModel(info);
    explain();
    showProblems(
      error instanceof ProblemError ? error.problems : problemsOf(error),
    );
    return;
  }
  if (choice !== modelChoice) return;
  state.loadingModel = null;
  state.info = { ...info, model };
  showModel(state.info);
  explain();
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
  ui.colormap.replaceChildren(
    ...COLORMAPS.map((name) =>
      h("option", { value: name, selected: name === "jet" }, name)
    ),
  );
  drawLegend(ui.legend, ui.colormap.value);
  wireFileDrop({ zone: ui.drop, input: ui.file }, useFile);
  ui.model.addEventListener("change", () => chooseModel(ui.model.value));
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
  ui.form.addEventListener("submit", (event) => event.preventDefault());
  ui.original.addEventListener("error", () => {
    ui.original.hidden = true;
  });
  // Leaving the page cancels its jobs (the cancel is sent with keepalive).
  globalThis.addEventListener("pagehide", () => runs.cancel());
}

wire();
connect();
