/**
 * The teacher's chat template, from its GGUF: node-llama-cpp resolves a chat wrapper from the file's
 * `tokenizer.chat_template` (Jinja) or its architecture and name. A model with no template (base models,
 * the random test fixture) gets the GeneralChatWrapper's plain "### User / ### Assistant" turns.
 */
import { GeneralChatWrapper, resolveChatWrapper, type ChatWrapper, type LlamaModel, type ResolvableChatWrapperTypeName } from "node-llama-cpp";

export type ChatWrapperChoice = Exclude<ResolvableChatWrapperTypeName, "template">;

export function chatWrapperFor(model: LlamaModel, choice: ChatWrapperChoice = "auto"): ChatWrapper {
  return resolveChatWrapper(model, { type: choice, warningLogs: false }) ?? new GeneralChatWrapper();
}
