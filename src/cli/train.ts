/**
 * `llm2llm train --model base.gguf --data train.jsonl --out adapter.gguf`: LoRA fine-tuning of the student on
 * {prompt, completion} JSONL; writes a GGUF LoRA adapter (llama.cpp / ollama load it) and the loss curve as
 * JSON beside it. Progress (loss, tokens/s, ETA) on stderr.
 */
import cliProgress from "cli-progress";
import type { CommandModule } from "yargs";
import { initBackend } from "../backend/tfjsBackend.js";
import { UsageError } from "../errors.js";
import { supportedArchitectures } from "../student/config.js";
import { parseTargets } from "../student/lora/loraTargets.js";
import { trainAdapterFile } from "../student/train/trainAdapterFile.js";
import { readPromptCompletionJsonl } from "../student/train/trainingData.js";
import { defaultTrainLoraOptions, type LossPoint } from "../student/train/trainLora.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import type { BaseWeightsRequest } from "../student/baseWeights.js";
import { type CheckpointRequest, describeMemoryPlan } from "../student/train/memoryPlan.js";
import { memoryOptions } from "./memoryOptions.js";
import { jsonOption, printJson, say } from "./output.js";

interface TrainArgs {
  model: string;
  data: string;
  out: string;
  rank: number;
  alpha: number;
  dropout: number;
  lr: number;
  epochs: number;
  batch: number;
  "grad-accum": number;
  "max-len": number;
  warmup: number;
  "weight-decay": number;
  "max-grad-norm": number;
  seed: number;
  targets: string;
  "init-adapter"?: string;
  "loss-curve"?: string;
  "base-weights": BaseWeightsRequest;
  checkpoint: CheckpointRequest;
  json: boolean;
}

const d = defaultTrainLoraOptions;

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: "train",
  describe: "fine-tune a LoRA adapter on {prompt, completion} JSONL and write it as a GGUF adapter",
  builder: (y) =>
    y.options({
      model: { type: "string", demandOption: true, describe: `base model GGUF (${supportedArchitectures.join(", ")})` },
      data: { type: "string", demandOption: true, describe: "training data: one {\"prompt\", \"completion\"} JSON object per line" },
      out: { type: "string", demandOption: true, describe: "adapter GGUF to write" },
      rank: { type: "number", default: d.lora.rank, describe: "LoRA rank r" },
      alpha: { type: "number", default: d.lora.alpha, describe: "LoRA alpha (scale = alpha / r)" },
      dropout: { type: "number", default: d.lora.dropout, describe: "dropout on the LoRA input" },
      lr: { type: "number", default: d.learningRate, describe: "peak learning rate (AdamW)" },
      epochs: { type: "number", default: d.epochs },
      batch: { type: "number", default: d.batchSize, describe: "examples per micro-batch" },
      "grad-accum": { type: "number", default: d.gradientAccumulation, describe: "micro-batches per optimizer step" },
      "max-len": { type: "number", default: 512, describe: "longest example in tokens; longer ones are left out (and counted)" },
      warmup: { type: "number", default: d.warmupRatio, describe: "fraction of steps spent in linear warmup (then cosine decay)" },
      "weight-decay": { type: "number", default: d.weightDecay },
      "max-grad-norm": { type: "number", default: d.maxGradNorm, describe: "global gradient-norm clip (0: off)" },
      seed: { type: "number", default: d.seed },
      targets: { type: "string", default: "q,k,v,o,gate,up,down", describe: "projections to adapt; on fused tensors (phi3) any of q,k,v adapts attn_qkv and gate or up adapts ffn_up, whole" },
      "init-adapter": { type: "string", describe: "start from this adapter's weights (resume)" },
      "loss-curve": { type: "string", describe: "loss curve JSON (default: <out>.loss.json)" },
      ...memoryOptions,
      ...jsonOption,
    }),
  handler: async (args) => {
    if (!Number.isInteger(args["max-len"]) || args["max-len"] < 2) throw new UsageError(`--max-len: expected an integer ≥ 2, got ${args["max-len"]}`);
    const targets = parseTargets(args.targets);
    const examples = readPromptCompletionJsonl(args.data);
    const backend = await initBackend();
    say(args.json, `student backend: ${backend.description}`);
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: "train [{bar}] {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let tokens = 0;
    const onStep = (point: LossPoint, total: number) => {
      tokens += point.tokens;
      const payload = { loss: point.loss.toFixed(4), tps: Math.round(tokens / (point.elapsedMs / 1000)) };
      if (point.step === 1) bar.start(total, 1, payload);
      else bar.update(point.step, payload);
    };
    let result;
    try {
      result = await trainAdapterFile({
        modelPath: args.model,
        examples,
        dataFile: args.data,
        outPath: args.out,
        maxLength: args["max-len"],
        ...(args["init-adapter"] ? { initAdapterPath: args["init-adapter"] } : {}),
        training: {
          lora: { rank: args.rank, alpha: args.alpha, dropout: args.dropout, targets },
          learningRate: args.lr,
          epochs: args.epochs,
          batchSize: args.batch,
          gradientAccumulation: args["grad-accum"],
          warmupRatio: args.warmup,
          weightDecay: args["weight-decay"],
          maxGradNorm: args["max-grad-norm"],
          seed: args.seed,
        },
        baseWeights: args["base-weights"],
        checkpoint: args.checkpoint,
        onStep,
      });
    } finally {
      bar.stop();
    }
    const lossCurvePath = args["loss-curve"] ?? `${args.out.replace(/\.gguf$/i, "")}.loss.json`;
    await writeFileAtomic(lossCurvePath, `${JSON.stringify({ ...result.summary, lossCurve: result.lossCurve }, null, 1)}\n`);
    const summary = { ...result.summary, lossCurve: lossCurvePath, backend: backend.choice };
    if (args.json) return printJson(summary);
    const s = result.summary;
    say(false, [
      `wrote ${s.adapter} (rank ${s.rank}, alpha ${s.alpha}, ${s.targets.join(",")})`,
      `${s.examples} examples${s.tooLong ? ` (${s.tooLong} longer than --max-len left out)` : ""}, ${s.steps} steps, loss ${s.firstLoss.toFixed(4)} → ${s.finalLoss.toFixed(4)}`,
      `${Math.round(s.tokensPerSecond)} tokens/s, ${s.seconds.toFixed(1)} s; loss curve: ${lossCurvePath}`,
      `memory plan: ${describeMemoryPlan(s.memory)}`,
    ].join("\n"));
  },
};
