/**
 * The toy teacher's `tokenizer.chat_template`: a Jinja template that renders exactly what node-llama-cpp's
 * GeneralChatWrapper renders (BOS, the system text, "### Human\n…", "### Assistant\n…", blank lines
 * between turns). node-llama-cpp checks a file's template against its specialized wrappers by rendering
 * test chats through both, finds this one equivalent to "General", and uses that wrapper: plain text turns
 * that the toy tokenizer covers with few tokens, and a wrapper whose rendering the build can reproduce.
 */
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
