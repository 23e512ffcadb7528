/** What the teacher and the loop use from `augment/`. */
export { augmentFilter, type AugmentFilterOptions, type AugmentFilterResult, type DropNote, type TeacherOutput } from "./augmentFilter.js";
export { parseFreeText, type Candidate, type FreeTextOptions, type FreeTextParse } from "./parseFreeText.js";
export { augmentationJsonSchema, parseStructured, DEFAULT_LENGTH_BOUNDS, type LengthBounds, type SchemaOptions } from "./structuredOutput.js";
export { verifyMathAnswer, type MathVerdict, type MathStep } from "./verifyMath.js";
export { rougeL, rougeTokens, lcsLength, RougeLIndex } from "./rougeL.js";
