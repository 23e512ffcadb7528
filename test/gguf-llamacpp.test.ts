/**
 * Files the writer makes load and run in llama.cpp (node-llama-cpp), in every tensor type, and llama.cpp
 * decodes each type's blocks to the values openGguf decodes: with attn_output and ffn_down zero, a one-block
 * llama's final hidden state is rmsnorm(token_embd[token]), which llama.cpp reads with its own
 * dequantize_row_* (ggml_get_rows) and returns as the embedding.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Token } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { GgmlType, openGguf } from "../src/gguf/index.js";
import { skipWithout, vocabDir } from "./fixtures.js";
import { writeTinyLlama } from "./ggufTinyLlama.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-gguf-llamacpp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nEmbd = 256; // a multiple of 256, so the K-quants fit
const rmsEps = 1e-5;

describe.skipIf(skipWithout("fixtures"))("llama.cpp loads what writeGguf writes", () => {
  for (const type of [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K]) {
    it(`${GgmlType[type]}: loads, evaluates, and its token embeddings decode as llama.cpp decodes them`, async () => {
      const modelPath = path.join(dir, `tiny-llama-${GgmlType[type]}.gguf`);
      await writeTinyLlama({ path: modelPath, vocabGguf: path.join(vocabDir, "ggml-vocab-llama-spm.gguf"), type, nEmbd, zeroBlocks: true, seed: type * 100 + 1,
        // output.weight (the other 32000-row matrix) in F16 keeps the slow K-quant searches to one matrix
        outputType: GgmlType.F16 });
      const file = await openGguf(modelPath);
      expect(file.tensor("token_embd.weight")?.type).toBe(type);
      const tokenEmbd = await file.readTensor("token_embd.weight"); // [n_vocab][n_embd]

      const llama = await getLlamaCpp();
      const model = await llama.loadModel({ modelPath });
      try {
        const context = await model.createContext({ contextSize: 64 });
        const tokens = model.tokenize("Once upon a time");
        const evaluation = context.getSequence().evaluate(tokens);
        const next = await evaluation.next();
        expect(next.value).toBeGreaterThanOrEqual(0);
        expect(next.value).toBeLessThan(32000);
        await evaluation.return?.(undefined);
        await context.dispose();

        const embeddings = await model.createEmbeddingContext({ contextSize: 16 });
        for (const token of [1, 2, 917, 31999]) {
          const fromLlamaCpp = (await embeddings.getEmbeddingFor([token as Token])).vector;
          const row = tokenEmbd.subarray(token * nEmbd, (token + 1) * nEmbd);
          let sumSquares = 0;
          for (const v of row) sumSquares += v * v;
          const inverseRms = 1 / Math.sqrt(sumSquares / nEmbd + rmsEps);
          let worst = 0;
          for (let i = 0; i < nEmbd; i++) worst = Math.max(worst, Math.abs(fromLlamaCpp[i]! - row[i]! * inverseRms));
          // Values are O(1) after the norm; a wrong block layout is off by O(1), float32 rounding by ~1e-7.
          expect(worst, `token ${token}`).toBeLessThan(1e-5);
        }
        await embeddings.dispose();
      } finally {
        await model.dispose();
      }
    });
  }
});
