/**
 * Issue 23, item 4: an adapter trained on a quantized base whose matrices the student keeps in their GGUF blocks
 * (the native GEMM packing straight from them) loads in llama.cpp on that same file and agrees with the student
 * (DESIGN.md §4 bounds), and its merge agrees too — for Q4_0 and Q4_K random llamas written by the project's codecs.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GgmlType, ggmlTypeName } from "../src/gguf/index.js";
import { StoredMatrix } from "../src/student/StoredMatrix.js";
import { vocabDir } from "./fixtures.js";
import { adapterParity } from "./helpers/adapterParity.js";
import { setUpNativeKernels } from "./helpers/nativeKernelSetup.js";
import { paritySpec, writeRandomModel } from "./helpers/randomModel.js";
import { tempDir, toyVocab } from "./loraModels.js";

const { registered, optional } = await setUpNativeKernels("adapter-parity-stored");
const dir = tempDir("adapter-parity-stored");

describe.skipIf(!registered.ok && optional)("adapter parity on a quantized base kept in its blocks", () => {
  for (const type of [GgmlType.Q4_0, GgmlType.Q4_K]) {
    it(`random llama, ${ggmlTypeName(type)}`, async () => {
      const file = path.join(dir, `llama-${ggmlTypeName(type)}.gguf`);
      await writeRandomModel(file, { ...paritySpec("llama", type, vocabDir), vocabPath: toyVocab });
      await adapterParity(`llama ${ggmlTypeName(type)}, stored`, file, dir, (student) => {
        expect(student.weights.blocks[0]!.ffnDown.weight).toBeInstanceOf(StoredMatrix);
        expect(student.weights.tokenEmbd).toBeInstanceOf(StoredMatrix);
      });
    }, 300_000);
  }
});
