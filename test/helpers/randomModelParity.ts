/**
 * The parity suite for one architecture: a random-weight model in every tensor type the project reads and
 * writes (src/gguf's supportedTensorTypes, so a newly supported type is covered at once), written by the
 * project's GGUF writer, run through llama.cpp and the tfjs student: next-token distributions over 64
 * positions, and 32 greedy tokens.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/tfjsBackend.js";
import { GgmlType, supportedTensorTypes } from "../../src/gguf/index.js";
import type { Architecture } from "../../src/student/config.js";
import { skipWithout, vocabDir } from "../fixtures.js";
import {
  checkParity, describeParity, llamaCppGreedy, loadLlamaCppModel, loadStudent, parityBounds, randomTokens, tfjsGreedy,
} from "./parity.js";
import { paritySpec, writeRandomModel } from "./randomModel.js";

export function describeRandomModelParity(architecture: Architecture): void {
  describe.skipIf(skipWithout("fixtures"))(`parity with llama.cpp: random ${architecture} model`, () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), `llm2llm-parity-${architecture}-`));
      console.log(`tfjs backend: ${(await initBackend()).description}`);
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const type of supportedTensorTypes()) {
      const typeName = GgmlType[type];
      it(`${typeName}: same next-token distributions over 64 positions and the same 32 greedy tokens`, async () => {
        const file = path.join(dir, `${architecture}-${typeName}.gguf`);
        await writeRandomModel(file, paritySpec(architecture, type, vocabDir));
        const llamaModel = await loadLlamaCppModel(file);
        const student = await loadStudent(file);
        try {
          const tokens = randomTokens(parityBounds.minPositions, student.config.nVocab, 17 + type, llamaModel.tokens.bos ?? undefined);
          const result = await checkParity(llamaModel, student, tokens);
          console.log(describeParity(`random ${architecture} ${typeName}`, result));
          expect(result.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
          expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
          expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);

          const prompt = tokens.slice(0, 4);
          expect(await tfjsGreedy(student, prompt, 32)).toEqual(await llamaCppGreedy(llamaModel, prompt, 32));
        } finally {
          student.dispose();
          await llamaModel.dispose();
          await rm(file, { force: true });
        }
      });
    }
  });
}
