#include "thread_pool.h"

#include <cstdlib>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace llm2llm {

namespace {
// How long an idle worker polls before it sleeps: a few tens of microseconds, enough to bridge the
// JavaScript between two kernels of a training step without burning a core shared with others.
constexpr int kSpinIterations = 20000;

int default_threads() {
  if (const char* env = std::getenv("LLM2LLM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}
}  // namespace

ThreadPool& ThreadPool::instance() {
  // Never destroyed: workers blocked on the condition variable end with the process.
  static ThreadPool* pool = new ThreadPool(default_threads());
  return *pool;
}

ThreadPool::ThreadPool(int count) { start_workers(count); }

void ThreadPool::set_threads(int count) {
  if (count < 1) count = 1;
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  if (count == threads_) return;
  stop_workers();
  start_workers(count);
}

void ThreadPool::start_workers(int count) {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = false;
  }
  threads_ = count;
  for (int i = 1; i < count; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = true;
    ++generation_;
    published_generation_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void ThreadPool::parallel_for(int tasks, TaskFn fn, void* context) {
  if (tasks <= 0) return;
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  if (threads_ == 1 || tasks == 1) {
    for (int t = 0; t < tasks; ++t) fn(context, t);
    return;
  }
  uint32_t generation;
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    generation = ++generation_;
    job_fn_ = fn;
    job_context_ = context;
    job_tasks_ = tasks;
    tasks_done_.store(0, std::memory_order_relaxed);
    next_task_.store(static_cast<uint64_t>(generation) << 32, std::memory_order_release);
    published_generation_.store(generation, std::memory_order_release);
  }
  wake_.notify_all();
  run_tasks(generation, tasks, fn, context);
  // The job's context lives on the caller's stack: wait until every claimed task has finished.
  int spins = 0;
  while (tasks_done_.load(std::memory_order_acquire) < tasks) {
    if (++spins < kSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::run_tasks(uint32_t generation, int tasks, TaskFn fn, void* context) {
  for (;;) {
    uint64_t current = next_task_.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(current >> 32) != generation) return;
      if (static_cast<int>(current & 0xffffffffu) >= tasks) return;
      if (next_task_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) break;
    }
    fn(context, static_cast<int>(current & 0xffffffffu));
    tasks_done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop() {
  uint32_t seen = published_generation_.load(std::memory_order_acquire);
  for (;;) {
    // Poll for a new job for a while, then sleep until one is published.
    for (int i = 0; i < kSpinIterations && published_generation_.load(std::memory_order_acquire) == seen; ++i) {
      cpu_relax();
    }
    TaskFn fn;
    void* context;
    int tasks;
    {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_.wait(lock, [&] { return generation_ != seen || stopping_; });
      if (stopping_) return;
      seen = generation_;
      fn = job_fn_;
      context = job_context_;
      tasks = job_tasks_;
    }
    run_tasks(seen, tasks, fn, context);
  }
}

}  // namespace llm2llm
