/** The accuracy-per-iteration plot: a vega-lite spec rendered to SVG in Node (no browser, works offline). */
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { IterationMetrics } from "../iterationMetrics.js";

export async function accuracyPlotSvg(iterations: IterationMetrics[]): Promise<string> {
  const values = iterations.flatMap((m) => [
    { iteration: m.t, accuracy: m.test_accuracy, set: "test" },
    { iteration: m.t, accuracy: m.seed_accuracy, set: "seed" },
  ]);
  const spec: vegaLite.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 480,
    height: 260,
    title: "Student accuracy per LLM2LLM iteration",
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "iteration", type: "ordinal", title: "iteration" },
      y: { field: "accuracy", type: "quantitative", title: "accuracy", scale: { domain: [0, 1] }, axis: { format: "%" } },
      color: { field: "set", type: "nominal", title: "evaluated on" },
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
