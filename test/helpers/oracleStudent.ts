/**
 * An oracle student generator: for every prompt of the given examples it answers the gold completion, cut
 * to the run's answer budget in the student's own tokens (`sampling.maxTokens`), as llama.cpp would stop it.
 * A perfect student, so a score under 100% means the budget cut a gold answer or scoring lost it. `wrong`
 * ids get an empty answer instead (a student that fails those, so the teacher has sources).
 */
import type { Example, SamplingOptions, StudentGenerator, Task } from "../../src/seams.js";
import { StudentTokenizer } from "../../src/student/tokenizer.js";

export async function oracleStudent(modelPath: string, task: Task, examples: readonly Example[], wrong: ReadonlySet<string> = new Set()): Promise<StudentGenerator & { cut: number }> {
  const tokenizer = await StudentTokenizer.load(modelPath);
  const byPrompt = new Map<string, Example[]>();
  for (const e of examples) {
    const prompt = task.formatPrompt(e);
    byPrompt.set(prompt, [...(byPrompt.get(prompt) ?? []), e]);
  }
  const oracle = {
    engine: "oracle",
    cut: 0,
    async generate(prompts: string[], sampling: SamplingOptions | readonly SamplingOptions[], onDone?: (index: number) => void): Promise<string[]> {
      const maxTokensOf = (index: number) => (Array.isArray(sampling) ? sampling[index]! : (sampling as SamplingOptions)).maxTokens;
      const used = new Map<string, number>();
      return prompts.map((prompt, index) => {
        const candidates = byPrompt.get(prompt);
        if (!candidates) throw new Error(`oracle: no example has the prompt ${JSON.stringify(prompt.slice(0, 80))}`);
        // Two examples with the same prompt are answered in the order they come.
        const n = used.get(prompt) ?? 0;
        used.set(prompt, n + 1);
        const example = candidates[Math.min(n, candidates.length - 1)]!;
        onDone?.(index);
        if (wrong.has(example.id)) return "";
        const promptIds = tokenizer.tokenize(prompt);
        const ids = tokenizer.tokenize(task.formatCompletion(example), { addBos: false, continuation: true });
        const maxTokens = maxTokensOf(index);
        if (ids.length > maxTokens) oracle.cut++;
        return tokenizer.detokenize(ids.slice(0, maxTokens), promptIds);
      });
    },
    dispose: () => tokenizer.dispose(),
  };
  return oracle;
}
