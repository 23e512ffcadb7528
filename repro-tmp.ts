import { writeNoByteFallbackModel } from "./test/helpers/noByteFallbackModel.js";
import { getLlamaCpp } from "./src/backend/llamaCpp.js";
await writeNoByteFallbackModel("/tmp/nobyte.gguf");
const llama = await getLlamaCpp();
const m = await llama.loadModel({ modelPath: "/tmp/nobyte.gguf", vocabOnly: true });
console.log(m.tokenize("Once upon a time there was a little cat").map(Number));
console.log(m.tokenize(process.argv[2] ?? "#").map(Number));
