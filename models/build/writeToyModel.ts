/**
 * Writes a trained toy model as a llama GGUF with the project's writer: the llama.* hyper-parameters, the
 * toy tokenizer's tokenizer.* keys (copied from models/toy-vocab.gguf, so llama.cpp tokenizes as the build
 * did), an optional chat template, and the weights (matrices F16 or F32, norms F32). No time stamps or
 * other run-dependent values go into the file: the same weights give the same bytes.
 */
import { ggufMetadataEntry, GgmlType, tokenizerMetadataFrom, writeGguf, type GgufMetadataEntry } from "../../src/gguf/index.js";
import { llamaMetadata } from "../../src/student/pretrain/modelShape.js";
import type { TrainableStudent } from "../../src/student/pretrain/TrainableStudent.js";

export interface ToyModelFile {
  path: string;
  name: string;
  vocabPath: string;
  matrixType: GgmlType.F32 | GgmlType.F16;
  chatTemplate?: string;
  /** Extra keys (e.g. how the model was trained), written as given. */
  extra?: GgufMetadataEntry[];
}

export async function writeToyModel(student: TrainableStudent, file: ToyModelFile): Promise<void> {
  const tokenizer = (await tokenizerMetadataFrom(file.vocabPath)).filter((e) => e.key !== "tokenizer.chat_template");
  const metadata: GgufMetadataEntry[] = [
    ...llamaMetadata(student.shape, file.name),
    ggufMetadataEntry("general.file_type", file.matrixType === GgmlType.F16 ? 1 : 0), // llama_ftype ALL_F32 = 0, MOSTLY_F16 = 1
    ...tokenizer,
    ...(file.chatTemplate ? [ggufMetadataEntry("tokenizer.chat_template", file.chatTemplate)] : []),
    ...(file.extra ?? []),
  ];
  await writeGguf(file.path, { metadata, tensors: student.ggufTensors(file.matrixType) });
}
