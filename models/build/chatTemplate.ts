/**
 * The toy teacher's `tokenizer.chat_template`: a Jinja template that renders exactly what node-llama-cpp's
 * GeneralChatWrapper renders (BOS, the system text, "### Human\n…", "### Assistant\n…", blank lines
 * between turns). node-llama-cpp checks a file's template against its specialized wrappers by rendering
 * test chats through both, finds this one equivalent to "General", and uses that wrapper: plain text turns
 * that the toy tokenizer covers with few tokens, and a wrapper whose rendering the build can reproduce.
 */
import { GeneralChatWrapper, GgufArchitectureType, resolveChatWrapper, type ChatWrapper, type GgufFileInfo, type LlamaModel } from "node-llama-cpp";

export const GENERAL_CHAT_TEMPLATE =
  "{{ bos_token }}" +
  "{% for message in messages %}" +
  "{% if message['role'] == 'system' %}" +
  "{% if loop.first %}{{ message['content'] }}\n\n{% else %}### System\n{{ message['content'] }}\n\n{% endif %}" +
  "{% elif message['role'] == 'user' %}### Human\n{{ message['content'] }}\n\n" +
  "{% elif message['role'] == 'assistant' %}### Assistant\n{{ message['content'] }}\n\n" +
  "{% endif %}" +
  "{% endfor %}" +
  "{% if add_generation_prompt %}### Assistant\n{% endif %}";

/**
 * The wrapper node-llama-cpp resolves for a llama GGUF carrying this template and the given vocabulary —
 * what LocalTeacher will use with the toy teacher — without the teacher file existing yet (the build renders
 * its training data before training). node-llama-cpp finds the template equivalent to GeneralChatWrapper
 * with `allowSpecialTokensInTitles`, whose titles tokenize apart from the text: the exact tokens matter.
 */
export function toyTeacherChatWrapper(vocab: LlamaModel): ChatWrapper {
  const fileInfo = { metadata: { general: { architecture: "llama" }, tokenizer: { chat_template: GENERAL_CHAT_TEMPLATE } } };
  return (
    resolveChatWrapper({
      fileInfo: fileInfo as unknown as GgufFileInfo,
      tokenizer: vocab.tokenizer,
      bosString: vocab.tokens.bosString,
      architecture: GgufArchitectureType.llama,
      warningLogs: false,
    }) ?? new GeneralChatWrapper()
  );
}
