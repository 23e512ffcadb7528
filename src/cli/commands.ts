/**
 * Every `llm2llm` command, one module each. Only the module of the command being run is loaded: the others
 * pull in TensorFlow.js, llama.cpp or vega, and loading all of them would cost every invocation seconds.
 * Add a command by adding a line here.
 */
import type { CommandModule } from "yargs";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

export interface CommandEntry {
  /** The word that selects the command. */
  name: string;
  describe: string;
  load: () => Promise<AnyCommand>;
}

export const commands: CommandEntry[] = [
  { name: "start", describe: "run LLM2LLM on the embedded default (toy student + toy teacher the project builds)", load: async () => (await import("./start.js")).startCommand },
  { name: "run", describe: "run the LLM2LLM loop: train, find wrong seed answers, let the teacher write targeted examples, repeat", load: async () => (await import("./run.js")).runCommand },
  { name: "report", describe: "rebuild report.html and report.md of a run directory", load: async () => (await import("./report.js")).reportCommand },
  { name: "train", describe: "LoRA-fine-tune a GGUF base on prompt/completion JSONL; write a GGUF adapter", load: async () => (await import("./train.js")).trainCommand },
  { name: "export", describe: "fold a LoRA adapter into its base: a full merged GGUF", load: async () => (await import("./export.js")).exportCommand },
  { name: "eval", describe: "greedy accuracy of a base + adapter on JSONL data (llama.cpp or tfjs)", load: async () => (await import("./eval.js")).evalCommand },
  { name: "augment", describe: "one augmentation round: the teacher writes k new examples per wrong example, filtered", load: async () => (await import("./augment.js")).augmentCommand },
  { name: "generate", describe: "generate text from a GGUF (optionally with an adapter) on tfjs or llama.cpp", load: async () => (await import("./generate.js")).generateCommand },
  { name: "inspect", describe: "architecture, parameters, tensor types, tokenizer and context of a GGUF", load: async () => (await import("./inspect.js")).inspectCommand },
  { name: "data", describe: "inspect or sample a dataset file", load: async () => (await import("./data.js")).dataCommand },
  { name: "doctor", describe: "tfjs backend, CPU features, llama.cpp GPU support and what to install for the GPU paths", load: async () => (await import("./doctor.js")).doctorCommand },
];
