/**
 * TeacherRequest → the JSON body of POST /v1/chat/completions (OpenAI's protocol, which llama-server, vLLM
 * and ollama speak). `top_k` is not OpenAI's but the local servers take it; it is sent only when set.
 */
import type { TeacherRequest } from "../../seams.js";

export interface BodyOptions {
  model: string;
  stream: boolean;
  /** Send `response_format: json_schema` for structured requests (false once the server refused it). */
  jsonSchema: boolean;
}

export function chatCompletionBody(request: TeacherRequest, options: BodyOptions): Record<string, unknown> {
  const { temperature = 0, topP, topK, seed, maxTokens } = request.sampling;
  const messages = [...(request.system ? [{ role: "system", content: request.system }] : []), ...request.messages];
  const body: Record<string, unknown> = { model: options.model, messages, max_tokens: maxTokens, temperature };
  if (topP !== undefined) body.top_p = topP;
  if (topK !== undefined) body.top_k = topK;
  if (seed !== undefined) body.seed = seed;
  if (options.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (request.jsonSchema && options.jsonSchema) {
    body.response_format = { type: "json_schema", json_schema: { name: "teacher_output", strict: true, schema: request.jsonSchema } };
  }
  return body;
}
