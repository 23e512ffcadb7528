/**
 * The project's teacher against a plain sequential loop on the same model, prompts, budget and grammar, and
 * where each one's time goes.
 *
 * The baseline is what a user of node-llama-cpp would write: one context, one sequence, and for each prompt a
 * `LlamaChatSession` holding the system prompt and worked example, asked the seed turn. node-llama-cpp
 * already reuses, within that one sequence, the KV cache of the prefix the previous prompt shared, so the
 * baseline evaluates the prefix once too; the teacher's gain over it is the batched decode (N sequences per
 * step), and its own prefix sharing is what keeps N sequences from evaluating the prefix N times.
 */
import { LlamaChatSession, type ChatHistoryItem, type LlamaGrammar, type Token } from "node-llama-cpp";
import { getLlamaCpp } from "../../src/backend/llamaCpp.js";
import type { TeacherRequest } from "../../src/seams.js";
import { chatWrapperFor } from "../../src/teacher/chatWrapper.js";
import { defaultFlashAttention, LocalTeacher } from "../../src/teacher/LocalTeacher.js";
import { llamaSampling } from "../../src/teacher/llamaSampling.js";

export interface RunMeasure {
  /** Completion tokens over every prompt. */
  tokens: number;
  seconds: number;
  /** CPU seconds this process used meanwhile (user + system): the work done, whatever else shares the cores. */
  cpu_seconds: number;
  tokens_per_s: number;
  /** Prompt tokens llama.cpp evaluated (token meters): what prompt processing cost. */
  prompt_tokens_evaluated: number;
  /** Tokens evaluated with logits (one per completion token, plus one per prompt). */
  sampled_tokens_evaluated: number;
  texts: string[];
}

export interface ModelCosts {
  /** Tokens each sequence held while probed (the first prompt's length). */
  context_tokens: number;
  /** Prompt processing, the prompt's last 128 tokens on one sequence (the baseline's settings). */
  prompt_tokens_per_s: number;
  /** One decode step with one sequence (the baseline's settings). */
  decode_step_ms_1: number;
  /** One decode step with N sequences, one token each, in one batch (the teacher's settings). */
  decode_step_ms_n: number;
  n: number;
}

interface Options {
  threads?: number;
  contextSize: number;
}

function measure(tokens: number, seconds: number, cpu: NodeJS.CpuUsage, prompt: number, sampled: number, texts: string[]): RunMeasure {
  return { tokens, seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, tokens_per_s: tokens / seconds, prompt_tokens_evaluated: prompt, sampled_tokens_evaluated: sampled, texts };
}

/** The project's teacher with N sequences, cold (no earlier batch has put the prefix in its cache). */
export async function runTeacher(modelPath: string, requests: TeacherRequest[], parallel: number, options: Options & { sharePrefix?: boolean }): Promise<RunMeasure & { prefix_tokens: number; prefix_copies: number }> {
  const teacher = await LocalTeacher.load({ modelPath, parallel, contextSize: options.contextSize, sharePrefix: options.sharePrefix ?? true, ...(options.threads ? { threads: options.threads } : {}) });
  try {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const done = await teacher.complete(requests);
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const failed = done.find((c) => c.error !== undefined);
    if (failed) throw new Error(`teacher request ${failed.id} failed: ${failed.error}`);
    const stats = teacher.evaluationStats;
    return {
      ...measure(done.reduce((sum, c) => sum + c.tokens, 0), seconds, cpu, stats.inputTokens, stats.outputTokens, done.map((c) => c.text)),
      prefix_tokens: stats.prefixTokens,
      prefix_copies: stats.prefixCopies,
    };
  } finally {
    await teacher.dispose();
  }
}

/** node-llama-cpp's LlamaChatSession answering the prompts one after another on one sequence. */
export async function runSequentialBaseline(modelPath: string, requests: TeacherRequest[], options: Options): Promise<RunMeasure> {
  const llama = await getLlamaCpp();
  const model = await llama.loadModel({ modelPath });
  try {
    const context = await model.createContext({ sequences: 1, contextSize: options.contextSize, ...(options.threads ? { threads: options.threads } : {}) });
    const sequence = context.getSequence();
    const chatWrapper = chatWrapperFor(model);
    const grammars = new Map<string, LlamaGrammar>();
    for (const request of requests) {
      const key = JSON.stringify(request.jsonSchema ?? null);
      if (request.jsonSchema && !grammars.has(key)) grammars.set(key, await llama.createGrammarForJsonSchema(request.jsonSchema as Parameters<typeof llama.createGrammarForJsonSchema>[0]));
    }
    const texts: string[] = [];
    let tokens = 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (const request of requests) {
      const last = request.messages.at(-1)!;
      if (last.role !== "user") throw new Error(`request ${request.id}: the last message must be the user's`);
      const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false });
      session.setChatHistory(historyBefore(request));
      const grammar = request.jsonSchema ? grammars.get(JSON.stringify(request.jsonSchema)) : undefined;
      const text = await session.prompt(last.content, {
        ...llamaSampling(request.sampling),
        ...(grammar ? { grammar } : {}),
        onToken: (generated) => {
          tokens += generated.length;
        },
      });
      texts.push(text);
      session.dispose({ disposeSequence: false });
    }
    const seconds = (performance.now() - started) / 1000;
    return measure(tokens, seconds, process.cpuUsage(cpuBefore), sequence.tokenMeter.usedInputTokens, sequence.tokenMeter.usedOutputTokens, texts);
  } finally {
    await model.dispose();
  }
}

/** The history before the last user turn (what a chat session holds when it is asked). */
function historyBefore(request: TeacherRequest): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = request.system ? [{ type: "system", text: request.system }] : [];
  for (const message of request.messages.slice(0, -1)) {
    history.push(message.role === "user" ? { type: "user", text: message.content } : { type: "model", response: [message.content] });
  }
  return history;
}

/**
 * What a prompt token and a decode step cost on this model and machine, now, at the batch's context length:
 * every sequence first holds `context` (the first request's prompt), since each token attends to all of it
 * (medians of a few tries). One sequence is measured as the baseline runs (node-llama-cpp's defaults), N as the
 * teacher runs (its attention setting, the N tokens queued in sequence order as its batching puts them).
 */
export async function probeCosts(modelPath: string, n: number, context: Token[], options: Options): Promise<ModelCosts> {
  const llama = await getLlamaCpp();
  const model = await llama.loadModel({ modelPath });
  try {
    const threads = options.threads ? { threads: options.threads } : {};
    const chunk = context.slice(-128);
    const head = context.slice(0, context.length - chunk.length);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const time = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      return performance.now() - started;
    };

    const baseline = await model.createContext({ sequences: 1, contextSize: options.contextSize, ...threads });
    const alone = baseline.getSequence();
    await alone.evaluateWithoutGeneratingNewTokens(head);
    const pp: number[] = [];
    for (let i = 0; i < 2; i++) {
      await alone.eraseContextTokenRanges([{ start: head.length, end: alone.nextTokenIndex }]);
      pp.push(await time(() => alone.evaluateWithoutGeneratingNewTokens(chunk)));
    }
    const one: number[] = [];
    for (let step = 0; step < 3; step++) one.push(await time(() => alone.evaluateWithoutGeneratingNewTokens([chunk[step]!])));
    await baseline.dispose();

    const batched = await model.createContext({ sequences: n, contextSize: options.contextSize, flashAttention: defaultFlashAttention(llama, model), ...threads });
    const sequences = Array.from({ length: n }, () => batched.getSequence());
    await sequences[0]!.evaluateWithoutGeneratingNewTokens(context);
    for (const s of sequences.slice(1)) {
      const copy = (s as unknown as { _copyStateFromOtherSequence?: (from: unknown, upTo: number) => Promise<boolean> })._copyStateFromOtherSequence;
      if (!copy || !(await copy.call(s, sequences[0]!, context.length))) await s.evaluateWithoutGeneratingNewTokens(context);
    }
    const many: number[] = [];
    // N sequences queue one token each in the same tick, in sequence order: node-llama-cpp decodes them in one batch.
    for (let step = 0; step < 3; step++) many.push(await time(() => Promise.all(sequences.map((s) => s.evaluateWithoutGeneratingNewTokens([chunk[step + 10]!])))));
    return { context_tokens: context.length, prompt_tokens_per_s: (chunk.length / median(pp)) * 1000, decode_step_ms_1: median(one), decode_step_ms_n: median(many), n };
  } finally {
    await model.dispose();
  }
}
