/** Dataset text is shown as text, never as markup: every string that reaches the HTML report goes through here. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Markdown table cells: pipes and newlines would break the table; backslash-escape markup characters. */
export function escapeMarkdownCell(text: unknown): string {
  return String(text).replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ⏎ ");
}
