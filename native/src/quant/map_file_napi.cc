// mapFile(path) -> ArrayBuffer: a whole file as an external ArrayBuffer over a read-only private mapping, so a
// GGUF's weights are file-backed pages the kernel can drop and reread, not a heap copy. The mapping is
// PROT_READ: the buffer must only be read (a write faults and kills the process). munmap runs when the
// ArrayBuffer is collected.
#include <string>

#if defined(__linux__) || defined(__APPLE__)
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define LLM2LLM_HAVE_MMAP 1
#endif

#include "../napi_util.h"

namespace llm2llm {

namespace {

#if defined(LLM2LLM_HAVE_MMAP)
void unmap(napi_env env, void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); }

napi_value throw_errno(napi_env env, const std::string& what, const std::string& path, int error) {
  napi_throw_error(env, nullptr, ("native mapFile: cannot " + what + " '" + path + "': " + strerror(error)).c_str());
  return nullptr;
}
#endif

napi_value MapFile(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  size_t length = 0;
  napi_valuetype type = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &type);
  if (argc != 1 || type != napi_string) {
    napi_throw_type_error(env, nullptr, "native mapFile: expected one argument, the file's path (a string)");
    return nullptr;
  }
  LLM2LLM_NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], nullptr, 0, &length));
  std::string path(length, '\0');
  LLM2LLM_NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], &path[0], length + 1, &length));
#if defined(LLM2LLM_HAVE_MMAP)
  if (path.find('\0') != std::string::npos) {
    napi_throw_type_error(env, nullptr, "native mapFile: the path contains a NUL character");
    return nullptr;
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open", path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return throw_errno(env, "stat", path, error);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    napi_throw_error(env, nullptr, ("native mapFile: '" + path + "' is not a regular file").c_str());
    return nullptr;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  napi_value result;
  if (size == 0) {
    // mmap cannot map zero bytes; an empty file is an empty buffer.
    close(fd);
    void* data;
    LLM2LLM_NAPI_CALL(env, napi_create_arraybuffer(env, 0, &data, &result));
    return result;
  }
  void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int error = errno;
  close(fd);  // the mapping keeps its own reference to the file
  if (data == MAP_FAILED) return throw_errno(env, "map", path, error);
  if (napi_create_external_arraybuffer(env, data, size, unmap, reinterpret_cast<void*>(size), &result) != napi_ok) {
    munmap(data, size);
    napi_throw_error(env, nullptr, ("native mapFile: this Node.js does not allow external ArrayBuffers ('" + path + "')").c_str());
    return nullptr;
  }
  return result;
#else
  napi_throw_error(env, nullptr, "native mapFile: not supported on this platform (no mmap)");
  return nullptr;
#endif
}

}  // namespace

void register_map_file(napi_env env, napi_value exports) { export_function(env, exports, "mapFile", MapFile); }

}  // namespace llm2llm
