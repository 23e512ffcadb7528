/**
 * `llm2llm inspect <model.gguf> [--json]`: architecture (and whether the tfjs student runs it), parameters, tensor
 * types, tokenizer and context of a GGUF.
 */
import type { CommandModule } from "yargs";
import { ggmlTypeName, openGguf, readableTensorTypes } from "../gguf/index.js";
import { summarizeGguf, type GgufModelSummary } from "../gguf/modelSummary.js";
import { supportedArchitectures } from "../student/config.js";
import { type BaseWeightsSummary, summarizeBaseWeights } from "../student/baseWeightsSummary.js";
import { jsonOption, printJson, say } from "./output.js";

interface InspectArgs {
  model: string;
  json: boolean;
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: "inspect <model>",
  describe: "show a GGUF file's architecture, parameter count, tensor types, tokenizer and context length",
  builder: (y) =>
    y.positional("model", { type: "string", demandOption: true, describe: "path to a .gguf file" }).options(jsonOption),
  handler: async (args) => {
    const file = await openGguf(args.model);
    const summary = summarizeGguf(file);
    const baseWeights = summarizeBaseWeights(file.tensors);
    if (args.json) return printJson({ ...summary, studentArchitecture: studentRuns(summary.architecture), studentBaseWeights: baseWeights });
    say(false, `${describeSummary(summary)}${summary.vocabOnly ? "" : `\n${describeBaseWeights(baseWeights)}`}`);
  },
};

function studentRuns(architecture: string): boolean {
  return (supportedArchitectures as readonly string[]).includes(architecture);
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function describeSummary(s: GgufModelSummary): string {
  const h = s.hyperparameters;
  const t = s.tokenizer;
  const show = (value: unknown) => (value === undefined ? "?" : Array.isArray(value) ? `[${value.join(", ")}]` : String(value));
  const lines = [
    `file:          ${s.file} (${formatCount(s.fileSize)} bytes, GGUF v${s.ggufVersion})`,
    `architecture:  ${s.architecture || "?"}${s.name ? ` (${s.name})` : ""}`,
  ];
  if (s.vocabOnly) {
    lines.push("tensors:       none: a vocabulary-only GGUF (tokenizer only, no weights)");
  } else {
    const types = Object.entries(s.tensorTypes).map(([type, count]) => `${type} ×${count}`).join(", ");
    lines.push(
      studentRuns(s.architecture)
        ? `student:       the tfjs student runs ${s.architecture}`
        : `student:       teacher only: the tfjs student runs ${supportedArchitectures.join(", ")}`,
      `parameters:    ${formatCount(s.parameters)} (${s.parameters.toLocaleString("en-US")})`,
      `tensors:       ${s.tensorCount}: ${types}${s.fileType ? ` (file type ${s.fileType})` : ""}`,
    );
    if (s.unreadableTensorTypes.length) {
      const types = s.unreadableTensorTypes;
      lines.push(
        `               the tfjs student cannot read ${types.join(", ")}: llama.cpp runs ${types.length > 1 ? "them" : "it"} (use this file as the teacher, ` +
          `or requantize it with llama-quantize for the student, which reads ${readableTensorTypes().map(ggmlTypeName).join(", ")})`,
      );
    }
    lines.push(
      `context:       ${show(h.contextLength)} tokens`,
      `layers:        ${show(h.blockCount)}, embedding ${show(h.embeddingLength)}, feed-forward ${show(h.feedForwardLength)}`,
      `heads:         ${show(h.headCount)} query, ${show(h.headCountKv ?? h.headCount)} key/value${h.ropeDimensionCount ? `, rope dim ${h.ropeDimensionCount}` : ""}`,
    );
  }
  if (t) {
    lines.push(
      `tokenizer:     ${show(t.model)}${t.pre ? ` / ${t.pre}` : ""}, ${show(t.vocabSize)} tokens${t.mergesCount ? `, ${t.mergesCount} merges` : ""}` +
        `, bos ${show(t.bosTokenId)}, eos ${show(t.eosTokenId)}${t.addBosToken === undefined ? "" : `, add bos ${t.addBosToken}`}` +
        (t.hasChatTemplate ? ", chat template" : ""),
    );
  } else {
    lines.push("tokenizer:     none");
  }
  return lines.join("\n");
}

function describeBaseWeights(b: BaseWeightsSummary): string {
  const gb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);
  const types = b.types.map((t) => `${t.type} ${t.held}`).join(", ");
  return `student:       base weights ${gb(b.storedBytes)} kept in their blocks (--base-weights stored), ${gb(b.float32Bytes)} as float32 (f32); ${types}`;
}
