// A persistent pool of worker threads shared by every native kernel.
//
// The calling (JavaScript) thread takes part in the work, so `threads()` counts it: with 2 threads
// there is 1 worker. Workers spin briefly after a job (training calls kernels back to back), then
// sleep on a condition variable so an idle process costs no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace llm2llm {

class ThreadPool {
 public:
  using TaskFn = void (*)(void* context, int task);

  // The process-wide pool; its size comes from LLM2LLM_THREADS, else the number of cores.
  static ThreadPool& instance();

  // Total threads doing work, the caller included (>= 1).
  int threads() const { return threads_; }
  // Stops the workers and starts `count - 1` new ones. Not to be called from inside a task.
  void set_threads(int count);

  // Runs fn(context, t) for every t in [0, tasks) across the pool; returns when all are done.
  // Calls from several JS threads at once are serialised.
  void parallel_for(int tasks, TaskFn fn, void* context);

 private:
  explicit ThreadPool(int count);
  void start_workers(int count);
  void stop_workers();
  void worker_loop();
  // Claims and runs tasks of job `generation` until none are left.
  void run_tasks(uint32_t generation, int tasks, TaskFn fn, void* context);

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one parallel_for at a time

  // The current job, published under wake_mutex_.
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  uint32_t generation_ = 0;
  std::atomic<uint32_t> published_generation_{0};
  TaskFn job_fn_ = nullptr;
  void* job_context_ = nullptr;
  int job_tasks_ = 0;
  bool stopping_ = false;

  // High 32 bits: job generation; low 32 bits: next task index. One CAS claims a task of one job,
  // so a worker that wakes late can never take a task from the next job by mistake.
  std::atomic<uint64_t> next_task_{0};
  std::atomic<int> tasks_done_{0};
};

}  // namespace llm2llm
