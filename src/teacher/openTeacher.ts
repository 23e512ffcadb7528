/**
 * The teacher a command asked for: a local GGUF (`--teacher`) or an OpenAI-compatible endpoint
 * (`--teacher-url` + `--teacher-model`, key from LLM2LLM_TEACHER_API_KEY). Exactly one of the two.
 */
import { UsageError } from "../errors.js";
import { EndpointTeacher } from "./EndpointTeacher.js";
import { LocalTeacher } from "./LocalTeacher.js";
import type { ChatWrapperChoice } from "./chatWrapper.js";

export interface TeacherChoice {
  teacher?: string;
  teacherUrl?: string;
  teacherModel?: string;
  /** Local: parallel sequences; endpoint: requests in flight. */
  parallel?: number;
  threads?: number;
  contextSize?: number;
  chatWrapper?: ChatWrapperChoice;
  timeoutMs?: number;
  retries?: number;
  stream?: boolean;
}

export async function openTeacher(choice: TeacherChoice): Promise<LocalTeacher | EndpointTeacher> {
  if (choice.teacher && choice.teacherUrl) throw new UsageError("give either --teacher (a GGUF) or --teacher-url (an endpoint), not both");
  if (choice.teacherUrl) {
    if (!choice.teacherModel) throw new UsageError("--teacher-url needs --teacher-model (the model name at the endpoint)");
    return new EndpointTeacher({
      baseUrl: choice.teacherUrl,
      model: choice.teacherModel,
      concurrency: choice.parallel,
      timeoutMs: choice.timeoutMs,
      maxRetries: choice.retries,
      stream: choice.stream,
    });
  }
  if (!choice.teacher) throw new UsageError("no teacher: give --teacher <model.gguf> or --teacher-url <http://host:port/v1> with --teacher-model <name>");
  return LocalTeacher.load({
    modelPath: choice.teacher,
    parallel: choice.parallel,
    threads: choice.threads,
    contextSize: choice.contextSize,
    chatWrapper: choice.chatWrapper,
  });
}
