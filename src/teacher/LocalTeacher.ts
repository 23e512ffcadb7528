/**
 * A teacher LLM run locally by llama.cpp (node-llama-cpp): one model, ONE context with N parallel sequences,
 * one LlamaChat per sequence. A batch of requests runs N at a time, each on its own sequence; llama.cpp
 * evaluates the N sequences' tokens together in one batch per step, so a memory-bound teacher reads its
 * weights once for N tokens. The prompt prefix every request shares (system prompt, worked example) is
 * evaluated once and copied to the other sequences (sharedPrefix.ts); each sequence then evaluates only its
 * request's own tokens, and later requests on it reuse the prefix from its KV cache.
 *
 * Structured requests are constrained by node-llama-cpp's JSON-schema grammar, so each completion parses.
 * Sampling is per request (temperature / top-p / top-k / seed / max tokens); the seed goes to llama.cpp's
 * sampler as given, so the same request gives the same text on any sequence.
 */
import { existsSync } from "node:fs";
import { LlamaChat, SpecialTokensText, type ChatHistoryItem, type ChatWrapper, type LlamaContext, type LlamaGrammar, type LlamaModel, type Llama } from "node-llama-cpp";
import { getLlamaCpp } from "../backend/llamaCpp.js";
import { MissingFileError } from "../errors.js";
import { checkVocabularyLoads, UntokenizableTextError, vocabularyCoverageFromMetadata } from "../gguf/vocabularyCoverage.js";
import type { Teacher, TeacherCompletion, TeacherRequest } from "../seams.js";
import { chatWrapperFor } from "./chatWrapper.js";
import { llamaSampling } from "./llamaSampling.js";
import { sha256OfFile } from "./fileHash.js";
import { runPool } from "./runPool.js";
import { lockstepBatching } from "./lockstepBatching.js";
import { primeSequences, renderedTokens, sharedPrefix, type PrefixStats } from "./sharedPrefix.js";
import type { LocalTeacherOptions } from "./types.js";

const DEFAULT_PARALLEL = 4;
const DEFAULT_CONTEXT = 2048;

export class LocalTeacher implements Teacher {
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private disposed = false;
  private readonly prefixStats: PrefixStats = { prefixTokens: 0, prefixTokensEvaluated: 0, prefixCopies: 0 };
  /** The chat wrapper resolved from the GGUF (`General` when the file has no chat template). */
  readonly chatWrapperName: string;

  private constructor(
    /** sha256 of the GGUF file. */
    readonly id: string,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chats: LlamaChat[],
    private readonly chatWrapper: ChatWrapper,
    private readonly sharePrefix: boolean,
    /** Sequences inside a generation now (the batching waits for each one's token). */
    private readonly activity: { generating: number },
  ) {
    this.chatWrapperName = chats[0]!.chatWrapper.wrapperName;
  }

  static async load(options: LocalTeacherOptions): Promise<LocalTeacher> {
    if (!existsSync(options.modelPath)) throw new MissingFileError(options.modelPath, "teacher model");
    const parallel = Math.max(1, Math.floor(options.parallel ?? DEFAULT_PARALLEL));
    await checkVocabularyLoads(options.modelPath);
    const llama = await getLlamaCpp();
    // Hash the file while llama.cpp loads it: both read the same bytes, and neither waits for the other.
    const [id, model] = await Promise.all([sha256OfFile(options.modelPath), llama.loadModel({ modelPath: options.modelPath })]);
    try {
      const contextSize = options.contextSize ?? Math.min(DEFAULT_CONTEXT, model.trainContextSize);
      const activity = { generating: 0 };
      let created: LlamaContext | undefined;
      // One ubatch per decode step: every generating sequence's token, in sequence order (lockstepBatching.ts).
      const batching = parallel > 1 ? lockstepBatching(() => created, () => activity.generating) : undefined;
      const context = await model.createContext({
        sequences: parallel,
        contextSize,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        flashAttention: options.flashAttention ?? defaultFlashAttention(llama, model),
        ...(batching ? { batching } : {}),
      });
      created = context;
      const chatWrapper = chatWrapperFor(model, options.chatWrapper);
      const chats = Array.from({ length: parallel }, () => new LlamaChat({ contextSequence: context.getSequence(), chatWrapper }));
      return new LocalTeacher(id, llama, model, context, chats, chatWrapper, options.sharePrefix ?? true, activity);
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  /** The prompt style the GGUF says it was trained for (`llm2llm.teacher.prompt_style`), if any. */
  get promptStyle(): "paper" | "compact" | undefined {
    const metadata = this.model.fileInfo.metadata as { llm2llm?: { teacher?: { prompt_style?: unknown } } };
    const style = metadata.llm2llm?.teacher?.prompt_style;
    return style === "paper" || style === "compact" ? style : undefined;
  }

  /** Parallel sequences in the context. */
  get parallel(): number {
    return this.chats.length;
  }


  /**
   * Tokens llama.cpp has evaluated so far, summed over the sequences: `input` (prompt tokens, without logits)
   * and `output` (tokens sampled from); plus what the shared prefix saved. For benchmarks and tests.
   */
  get evaluationStats(): { inputTokens: number; outputTokens: number } & PrefixStats {
    const meters = this.chats.map((chat) => chat.sequence.tokenMeter);
    return {
      inputTokens: meters.reduce((sum, m) => sum + m.usedInputTokens, 0),
      outputTokens: meters.reduce((sum, m) => sum + m.usedOutputTokens, 0),
      ...this.prefixStats,
    };
  }

  /** Runs every request, N at a time; results in request order, `onDone` as each finishes. */
  async complete(requests: TeacherRequest[], onDone?: (done: TeacherCompletion) => void): Promise<TeacherCompletion[]> {
    if (this.disposed) throw new Error("LocalTeacher.complete after dispose");
    if (this.sharePrefix && requests.length > 1) await this.primeSharedPrefix(requests);
    return runPool(requests, this.chats.length, async (request, _index, slot) => {
      const completion = await this.completeOne(this.chats[slot]!, request);
      onDone?.(completion);
      return completion;
    });
  }

  /** Puts the batch's shared prompt prefix in every sequence (sharedPrefix.ts), evaluating it at most once. */
  private async primeSharedPrefix(requests: TeacherRequest[]): Promise<void> {
    // Tokenizing a prompt the vocabulary cannot hold would abort llama.cpp: those are refused one by one later.
    const tokenizable = requests.filter((request) => this.untokenizablePromptText(request) === undefined);
    if (tokenizable.length < 2) return;
    const prompts = tokenizable.map((request) => renderedTokens(this.model, this.chatWrapper, chatHistory(request)));
    const prefix = sharedPrefix(prompts);
    // A prefix that does not fit leaves each request to fail (or shift) on its own, as without sharing.
    if (prefix.length >= this.context.contextSize) return;
    try {
      await primeSequences(
        this.chats.map((chat) => chat.sequence),
        prefix,
        this.prefixStats,
      );
    } catch {
      // Only a speed-up: LlamaChat re-evaluates whatever a sequence lacks, so the requests still run as they would without it.
    }
  }

  private async completeOne(chat: LlamaChat, request: TeacherRequest): Promise<TeacherCompletion> {
    let tokens = 0;
    try {
      const untokenizable = this.untokenizablePromptText(request);
      if (untokenizable) throw untokenizable;
      const grammar = request.jsonSchema ? await this.grammarFor(request.jsonSchema) : undefined;
      this.activity.generating++;
      const response = await chat
        .generateResponse(chatHistory(request), {
          ...llamaSampling(request.sampling),
          ...(grammar ? { grammar } : {}),
          onToken: (generated) => {
            tokens += generated.length;
          },
        })
        .finally(() => this.activity.generating--);
      return { id: request.id, text: response.response, tokens, truncated: response.metadata.stopReason === "maxTokens" };
    } catch (error) {
      // One bad request (a prompt longer than the context, say) is counted, not fatal to the batch.
      return { id: request.id, text: "", tokens, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * A prompt the teacher's vocabulary cannot hold (no byte fallback) would abort llama.cpp: refuse it first. The
   * text checked is what the chat wrapper renders (its own template text included); special tokens are not text.
   */
  private untokenizablePromptText(request: TeacherRequest): UntokenizableTextError | undefined {
    const coverage = (this.coverage ??= vocabularyCoverageFromMetadata(this.model.fileInfo.metadata));
    if (coverage.kind !== "no-byte-fallback") return undefined;
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: chatHistory(request) });
    for (const value of contextText.values) {
      // Plain text, or template text tokenized with special-token parsing ("[INST] "); a special token is no text.
      const found =
        typeof value === "string" ? coverage.firstUntokenizable(value)
        : value instanceof SpecialTokensText ? coverage.firstUntokenizableWithSpecials(value.value)
        : undefined;
      if (found) return new UntokenizableTextError(this.model.filename ?? "teacher", found, `teacher request ${request.id}`);
    }
    return undefined;
  }

  private coverage: ReturnType<typeof vocabularyCoverageFromMetadata> | undefined;

  /** One grammar per distinct schema, shared by every sequence (its evaluation state is per generation). */
  private grammarFor(schema: object): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      // node-llama-cpp's GbnfJsonSchema type is narrower than `object`; the schema comes from src/augment.
      grammar = this.llama.createGrammarForJsonSchema(schema as Parameters<Llama["createGrammarForJsonSchema"]>[0]);
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  /** Frees the context and the model (the loop calls this before training, so one model is resident). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const chat of this.chats) chat.dispose({ disposeSequence: true });
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** Flash attention off on the CPU (no GPU build, or one that found no device and offloaded nothing; types.ts says why), llama.cpp's choice on a GPU. */
export function defaultFlashAttention(llama: Llama, model: LlamaModel): false | "auto" {
  return llama.gpu === false || model.gpuLayers === 0 ? false : "auto";
}

/** Seam messages → node-llama-cpp chat history, ending in an empty model turn for the reply. */
export function chatHistory(request: TeacherRequest): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (request.system) history.push({ type: "system", text: request.system });
  for (const message of request.messages) {
    history.push(message.role === "user" ? { type: "user", text: message.content } : { type: "model", response: [message.content] });
  }
  history.push({ type: "model", response: [] });
  return history;
}
