/** The GGUF file-format layer: reading tensors (dequantized), writing GGUF files, tokenizer metadata. */
export { GgmlType, ggmlTypeName, ggmlTypeTraits } from "./ggmlType.js";
export { openGguf, type GgufFile, type GgufTensorInfo } from "./openGguf.js";
export { checkGgufFile, type GgufHeaderSummary } from "./headerCheck.js";
export { writeGguf, type GgufTensorToWrite, type GgufToWrite } from "./writeGguf.js";
export { ggufMetadataEntry, type GgufMetadataEntry, type GgufMetaType } from "./metadataTypes.js";
export { flattenMetadata } from "./metadataFlatten.js";
export { tokenizerMetadataFrom } from "./tokenizerMetadata.js";
export {
  codecFor, decoderFor, readableTensorTypes, supportedTensorTypes, floatToHalf, halfToFloat, roundToHalf, type TensorCodec, type TensorDecoder,
} from "./quant/index.js";
export { tensorByteLength } from "./tensorLayout.js";
export {
  checkVocabularyLoads, UntokenizableTextError, untokenizableReason, vocabularyCoverage, vocabularyCoverageFromMetadata,
  type UntokenizableCharacter, type VocabularyCoverage, type VocabularyKind,
} from "./vocabularyCoverage.js";
