/**
 * `llm2llm generate --model m.gguf --prompt "..." [--engine tfjs|llama.cpp]`: continue a prompt with the tfjs
 * student or with llama.cpp on the same GGUF (optionally with a LoRA adapter). Greedy unless --temperature.
 * With --json: one object with promptTokens (BOS included when the model adds one), tokens and text.
 */
import type { CommandModule } from "yargs";
import { initBackend } from "../backend/tfjsBackend.js";
import { UsageError } from "../errors.js";
import { supportedArchitectures } from "../student/config.js";
import { generateText, generationEngines, type GenerationEngine } from "../student/generateText.js";
import { jsonOption, printJson, say } from "./output.js";

interface GenerateArgs {
  model: string;
  prompt: string;
  "max-tokens": number;
  temperature?: number;
  "top-k"?: number;
  "top-p"?: number;
  seed?: number;
  engine: GenerationEngine;
  adapter?: string;
  "adapter-scale": number;
  json: boolean;
}

export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: "generate",
  describe: "continue a prompt with the tfjs student or llama.cpp (greedy unless --temperature)",
  builder: (y) =>
    y.options({
      model: { type: "string", demandOption: true, describe: `model GGUF (${supportedArchitectures.join(", ")} for the tfjs engine)` },
      prompt: { type: "string", demandOption: true, describe: "text to continue (BOS is added when the model asks for it)" },
      "max-tokens": { type: "number", default: 64, describe: "most tokens to generate" },
      temperature: { type: "number", describe: "sampling temperature (absent or 0: greedy)" },
      "top-k": { type: "number", describe: "sample among the k most likely tokens only" },
      "top-p": { type: "number", describe: "sample among the most likely tokens holding this much probability" },
      seed: { type: "number", describe: "seed for sampling (same seed, same engine: same output)" },
      engine: { choices: generationEngines, default: "tfjs" as GenerationEngine, describe: "tfjs student or llama.cpp" },
      adapter: { type: "string", describe: "LoRA adapter GGUF applied to the model" },
      "adapter-scale": { type: "number", default: 1, describe: "adapter scale (times its alpha / r, as llama.cpp)" },
      ...jsonOption,
    }),
  handler: async (args) => {
    if (args.temperature !== undefined && !(args.temperature >= 0)) throw new UsageError(`--temperature: expected a number ≥ 0, got ${args.temperature}`);
    if (args.engine === "tfjs") say(args.json, `student backend: ${(await initBackend()).description}`);
    const result = await generateText({
      engine: args.engine,
      modelPath: args.model,
      prompt: args.prompt,
      sampling: {
        maxTokens: args["max-tokens"],
        ...(args.temperature === undefined ? {} : { temperature: args.temperature }),
        ...(args["top-k"] === undefined ? {} : { topK: args["top-k"] }),
        ...(args["top-p"] === undefined ? {} : { topP: args["top-p"] }),
        ...(args.seed === undefined ? {} : { seed: args.seed }),
      },
      ...(args.adapter === undefined ? {} : { adapterPath: args.adapter, adapterScale: args["adapter-scale"] }),
    });
    if (args.json) return printJson({ model: args.model, adapter: args.adapter ?? null, ...result });
    // The summary goes to stdout with the text (as the backend line does): stderr stays for errors and, asked, native logs.
    say(false, `${args.prompt}${result.text}`);
    say(
      false,
      `[${result.engine}: ${result.promptTokens.length} prompt tokens, ${result.tokens.length} generated (${result.stoppedBy === "eos" ? "end of text" : "max tokens"}), ${result.tokensPerSecond.toFixed(1)} tokens/s]`,
    );
  },
};
