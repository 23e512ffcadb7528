/**
 * Token lengths of a run's data, measured the way the run will use them: the student's tokenizer on the
 * student's prompts and gold completions (exactly as the trainer and the evaluator tokenize them), and the
 * teacher's tokenizer on the teacher's requests with its chat template applied. Only vocabularies are loaded.
 * An endpoint teacher's tokenizer is not at hand: the student's stands in (the plan says so).
 */
import type { LlamaModel } from "node-llama-cpp";
import { getLlamaCpp } from "../backend/llamaCpp.js";
import { MissingFileError } from "../errors.js";
import { existsSync } from "node:fs";
import type { Example, Task } from "../seams.js";
import { StudentTokenizer } from "../student/tokenizer.js";
import { chatWrapperFor } from "../teacher/chatWrapper.js";
import { chatHistory } from "../teacher/LocalTeacher.js";
import { augmentationRequest } from "../teacher/prompts/augmentationRequest.js";
import type { ExampleLength, LengthMeasurements, SourceLength } from "./lengthPlan.js";

export interface MeasureInput {
  studentPath: string;
  teacherPath?: string;
  task: Task;
  seedSet: readonly Example[];
  testSet: readonly Example[];
  /** Examples asked per request in the first round (the request's wording names the count). */
  examplesPerSource: number;
  structured: boolean;
}

/** The student's token counts of one example, as `tokenizeExamples` (training) and the evaluator count them. */
export function studentLengths(tokenizer: StudentTokenizer, task: Task, examples: readonly Example[]): ExampleLength[] {
  return examples.map((e) => ({
    id: e.id,
    prompt: tokenizer.tokenize(task.formatPrompt(e)).length,
    completion: tokenizer.tokenize(task.formatCompletion(e), { addBos: false, continuation: true }).length,
  }));
}

/** One example as an item of the teacher's JSON output. */
export function teacherItem(task: Task, e: Example): string {
  return JSON.stringify(task.kind === "multiple-choice" ? { question: e.question, choices: e.choices ?? [], answer: e.answer } : { question: e.question, answer: e.answer });
}

/** `<arch>.context_length` from the GGUF (a vocab-only load reports 0 as the trained context); undefined when absent. */
export function trainedContext(model: LlamaModel): number | undefined {
  const metadata = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const arch = metadata.general?.architecture;
  const value = typeof arch === "string" ? metadata[arch]?.context_length : undefined;
  return typeof value === "number" && value > 0 ? value : undefined;
}

/**
 * The student's usable context: its trained context, except phi3 with long-context RoPE factors, where llama.cpp
 * takes rope_factors_long once a sequence's context exceeds rope.scaling.original_context_length
 * (build_rope_factors) and the student implements the short ones only: evaluating in llama.cpp past that length
 * would use other positions than training did.
 */
export function studentContextLimit(model: LlamaModel): { tokens: number | undefined; reason?: string } {
  const trained = trainedContext(model);
  const metadata = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  if (metadata.general?.architecture !== "phi3") return { tokens: trained };
  const scaling = (metadata.phi3?.rope as { scaling?: { original_context_length?: unknown } } | undefined)?.scaling;
  const original = scaling?.original_context_length;
  const factors = model.fileInfo.tensorInfo?.some((t) => t.name === "rope_factors_long.weight") ?? false;
  if (!factors || typeof original !== "number" || original <= 0 || (trained !== undefined && trained <= original)) return { tokens: trained };
  return { tokens: original, reason: `phi3's original context; past it llama.cpp switches to rope_factors_long, which the student does not implement` };
}

function studentContextOf(model: LlamaModel): { trainedContext: number; contextLimitReason?: string } {
  const { tokens, reason } = studentContextLimit(model);
  return { trainedContext: tokens ?? Number.POSITIVE_INFINITY, ...(reason ? { contextLimitReason: reason } : {}) };
}

export async function loadVocab(modelPath: string, what: string): Promise<LlamaModel> {
  if (!existsSync(modelPath)) throw new MissingFileError(modelPath, what);
  return (await getLlamaCpp()).loadModel({ modelPath, vocabOnly: true });
}

export async function measureLengths(input: MeasureInput): Promise<LengthMeasurements> {
  const studentModel = await loadVocab(input.studentPath, "student model");
  const teacherModel = input.teacherPath ? await loadVocab(input.teacherPath, "teacher model").catch(async (e) => { await studentModel.dispose(); throw e; }) : undefined;
  try {
    const tokenizer = StudentTokenizer.fromModel(studentModel);
    const seed = studentLengths(tokenizer, input.task, input.seedSet);
    const test = studentLengths(tokenizer, input.task, input.testSet);
    const model = teacherModel ?? studentModel;
    const metadata = teacherModel?.fileInfo.metadata as { llm2llm?: { teacher?: { prompt_style?: unknown } } } | undefined;
    const promptStyle = metadata?.llm2llm?.teacher?.prompt_style === "compact" ? "compact" : "paper";
    const wrapper = teacherModel ? chatWrapperFor(teacherModel) : undefined;
    const sources: SourceLength[] = input.seedSet.map((e) => {
      const { request } = augmentationRequest(input.task, e, { k: input.examplesPerSource, structured: input.structured, sampling: { maxTokens: 1 }, iteration: 0, promptStyle });
      const prompt = wrapper
        ? wrapper.generateContextState({ chatHistory: chatHistory(request) }).contextText.tokenize(model.tokenizer).length
        : // An endpoint applies its own template: count the text and a few tokens per turn for the markers.
          [request.system ?? "", ...request.messages.map((m) => m.content)].reduce((n, text) => n + model.tokenize(text).length + 4, 0);
      return { id: e.id, prompt, item: model.tokenize(teacherItem(input.task, e)).length };
    });
    return {
      student: { seed, test, ...studentContextOf(studentModel) },
      teacher: {
        sources,
        ...(teacherModel ? { trainedContext: trainedContext(teacherModel) ?? Number.POSITIVE_INFINITY } : {}),
        tokenizer: teacherModel ? "teacher" : "student",
        promptStyle,
        wrapper: model.tokenize('{"examples": []}').length,
      },
    };
  } finally {
    await teacherModel?.dispose();
    await studentModel.dispose();
  }
}
