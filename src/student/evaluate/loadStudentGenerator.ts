/** Picks a student engine by name: llama.cpp with the adapter (default, fast) or the tfjs student (reference). */
import { UsageError } from "../../errors.js";
import type { StudentGenerator } from "../../seams.js";
import { LlamaCppStudentGenerator } from "./LlamaCppStudentGenerator.js";
import { TfjsStudentGenerator } from "./TfjsStudentGenerator.js";

export const studentEngines = ["llama.cpp", "tfjs"] as const;
export type StudentEngine = (typeof studentEngines)[number];

export interface StudentGeneratorOptions {
  engine: StudentEngine;
  modelPath: string;
  adapterPath?: string;
  adapterScale?: number;
  /** llama.cpp only: parallel sequences. Default 8. */
  parallel?: number;
  /** llama.cpp only: tokens per sequence. Default 1024. */
  contextSize?: number;
}

export async function loadStudentGenerator(options: StudentGeneratorOptions): Promise<StudentGenerator> {
  const common = {
    modelPath: options.modelPath,
    ...(options.adapterPath === undefined ? {} : { adapterPath: options.adapterPath }),
    ...(options.adapterScale === undefined ? {} : { adapterScale: options.adapterScale }),
  };
  switch (options.engine) {
    case "llama.cpp":
      return LlamaCppStudentGenerator.load({
        ...common,
        ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
        ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
      });
    case "tfjs":
      return TfjsStudentGenerator.load(common);
    default:
      throw new UsageError(`--engine: expected one of ${studentEngines.join(", ")}, got ${String(options.engine)}`);
  }
}
