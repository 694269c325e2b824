/// <reference lib="dom" />
/**
 * Where images come in: the file picker, and drops anywhere on the page
 * (the drop zone lights up while a file is dragged over).
 *
 * @module
 */

/**
 * Calls `onFile` with each image chosen in `input` or dropped on the page.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * wireFileDrop({ zone: dropZone, input: fileInput }, (file) => explain(file));
 * ```
 */
export function wireFileDrop(
  elements: {
    /** Lit up (class `dragging`) while a file is dragged over the page. */
    zone: HTMLElement;
    /** The file picker. */
    input: HTMLInputElement;
  },
  onFile: (file: File) => void,
): void {
  const { zone, input } = elements;
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) onFile(file);
  });
  // The whole page takes drops, not only the drop zone.
  document.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer?.files[0];
    if (file) onFile(file);
  });
}
