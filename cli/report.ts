/**
 * The CLI's HTML report: one self-contained page (styles inline, images as
 * data URLs, no script) with a grid of images × methods.
 *
 * @module
 */

/** One overlay in the grid, or why there is none. */
export type ReportCell =
  | {
    /** PNG data URL. */
    overlay: string;
    label: string;
    classIndex: number;
    probability: number;
    layer: string;
    explainMs: number;
  }
  | { error: string };

/** One image: its row of the grid. */
export interface ReportRow {
  /** The file name shown. */
  name: string;
  /** The image as a data URL (PNG or JPEG). */
  image: string;
  width: number;
  height: number;
  /** The top-5 classes. */
  top: { label: string; probability: number }[];
  /** One cell per method, in the order of the columns. */
  cells: ReportCell[];
}

/** What {@linkcode renderReport} shows. */
export interface Report {
  /** Method names: the columns. */
  methods: readonly string[];
  rows: ReportRow[];
  /** Files that could not be explained at all. */
  failures: { path: string; message: string }[];
  /** Model, backend, colour map, α, date... as `key: value` lines. */
  about: Record<string, string>;
}

/**
 * Escapes text for HTML content and attribute values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(escapeHtml(`<a href="x">`), "&lt;a href=&quot;x&quot;&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * A label as people read it: underscores as spaces (the report and the
 * console agree).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(displayLabel("military_uniform"), "military uniform");
 * ```
 */
export function displayLabel(label: string): string {
  return label.replaceAll("_", " ");
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1rem; color: #1d1d1f; background: #fbfbfa; }
h1 { margin: 0 0 .5rem; font-size: 1.4rem; }
dl.about { display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; margin: 0 0 1rem; color: #5c5c66; }
dl.about div { display: flex; gap: .3rem; }
dl.about dt { font-weight: 600; }
dl.about dd { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d5d5da; padding: .4rem; vertical-align: top; text-align: left; background: #fff; }
thead th { position: sticky; top: 0; background: #f0f0f3; }
tbody th { font-weight: normal; }
img { display: block; width: 16rem; max-width: 40vw; height: auto; }
figure { margin: 0; }
figcaption, ol { font-size: .8rem; color: #5c5c66; }
ol { margin: .3rem 0 0; padding-left: 1.2rem; }
.error { color: #b3261e; max-width: 16rem; }
`;

function percent(p: number): string {
  return `${(p * 100).toFixed(p >= 0.1 ? 1 : 2)}%`;
}

function cellHtml(cell: ReportCell, method: string, row: ReportRow): string {
  if ("error" in cell) {
    return `<td class="error">${escapeHtml(cell.error)}</td>`;
  }
  const label = displayLabel(cell.label);
  const alt = `${method} heatmap over ${row.name}, explaining ${label}`;
  return `<td><figure><img src="${cell.overlay}" width="${row.width}" ` +
    `height="${row.height}" alt="${escapeHtml(alt)}"><figcaption>` +
    `${escapeHtml(label)} (${cell.classIndex}, ${percent(cell.probability)})` +
    ` · ${escapeHtml(cell.layer)} · ${Math.round(cell.explainMs)} ms` +
    `</figcaption></figure></td>`;
}

/**
 * Renders the report as one HTML document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = renderReport({ methods: ["gradcam"], rows: [], failures: [], about: {} });
 * assert.ok(html.startsWith("<!doctype html>"));
 * ```
 */
export function renderReport(report: Report): string {
  const about = Object.entries(report.about).map(([k, v]) =>
    `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`
  ).join("");
  const head = `<tr><th scope="col">Image</th>${
    report.methods.map((m) => `<th scope="col">${escapeHtml(m)}</th>`).join("")
  }</tr>`;
  const rows = report.rows.map((row) => {
    const top = row.top.map((p) =>
      `<li>${escapeHtml(displayLabel(p.label))} ${percent(p.probability)}</li>`
    ).join("");
    return `<tr><th scope="row"><figure><img src="${row.image}" ` +
      `width="${row.width}" height="${row.height}" alt="${
        escapeHtml(`The image ${row.name}`)
      }"><figcaption>${escapeHtml(row.name)} (${row.width}×${row.height})` +
      `</figcaption></figure><ol>${top}</ol></th>${
        row.cells.map((c, i) => cellHtml(c, report.methods[i], row)).join("")
      }</tr>`;
  }).join("\n");
  const failures = report.failures.length === 0
    ? ""
    : `<h2>Failed</h2><ul>${
      report.failures.map((f) =>
        `<li><code>${escapeHtml(f.path)}</code>: ${escapeHtml(f.message)}</li>`
      ).join("")
    }</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lumen report: ${report.rows.length} images × ${report.methods.length} methods</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Lumen report</h1>
<dl class="about">${about}</dl>
<div class="scroll">
<table>
<caption>Each row is an image with its top-5 classes; each column a method's overlay.</caption>
<thead>${head}</thead>
<tbody>
${rows}
</tbody>
</table>
</div>
${failures}
</body>
</html>
`;
}
