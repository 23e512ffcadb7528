/**
 * `llm2llm export --adapter a.gguf --model base.gguf --merge --out merged.gguf`: folds a LoRA adapter into
 * its base (W' = W + scale·B·A) and writes a full GGUF that llama.cpp runs without the adapter. Adapted
 * tensors are written F32 (see src/gguf/mergeAdapter.ts for why); others keep lossless base types.
 */
import type { CommandModule } from "yargs";
import { readLoraAdapter } from "../gguf/adapter.js";
import { writeMergedModel } from "../gguf/mergeAdapter.js";
import { UsageError } from "../errors.js";
import { jsonOption, printJson, say } from "./output.js";

interface ExportArgs {
  adapter: string;
  model: string;
  merge: boolean;
  out: string;
  scale: number;
  json: boolean;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: "export",
  describe: "write a full GGUF with a LoRA adapter merged into the base weights",
  builder: (y) =>
    y.options({
      adapter: { type: "string", demandOption: true, describe: "LoRA adapter GGUF" },
      model: { type: "string", demandOption: true, describe: "the base model GGUF the adapter was trained on" },
      merge: { type: "boolean", default: false, describe: "merge the adapter into the base (the only export for now)" },
      out: { type: "string", demandOption: true, describe: "merged GGUF to write" },
      scale: { type: "number", default: 1, describe: "adapter scale (multiplies alpha / r, as llama.cpp's)" },
      ...jsonOption,
    }),
  handler: async (args) => {
    if (!args.merge) throw new UsageError("export: pass --merge (an adapter GGUF already loads in llama.cpp and ollama as it is)");
    const adapter = await readLoraAdapter(args.adapter);
    const summary = await writeMergedModel(args.model, adapter, args.adapter, args.out, args.scale);
    const result = { out: args.out, model: args.model, adapter: args.adapter, mergedTensors: summary.merged.length, widenedToF32: summary.widenedToF32 };
    if (args.json) return printJson(result);
    say(false, `wrote ${args.out}: ${summary.merged.length} tensors merged (F32)` +
      (summary.widenedToF32.length ? `, ${summary.widenedToF32.length} widened to F32` : ""));
  },
};
