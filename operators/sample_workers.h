// The worker pool of the data generators (operators/datagen.h): results[i] = make(state, i), computed on several
// threads, each sample serially, so that a sample depends only on its index and never on the thread count.
#pragma once

#include "operators/datagen.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace physis::ops::detail {

// While the workers run, torch runs single-threaded (each worker is one of the requested threads, and no operation
// inside a sample starts threads of its own, which would oversubscribe the cores); the caller's setting returns
// afterwards.
class SingleThreadedTorch {
 public:
  SingleThreadedTorch() : previous_(at::get_num_threads()) { at::set_num_threads(1); }
  ~SingleThreadedTorch() { at::set_num_threads(previous_); }
  SingleThreadedTorch(const SingleThreadedTorch&) = delete;
  SingleThreadedTorch& operator=(const SingleThreadedTorch&) = delete;

 private:
  int previous_;
};

// The state of generators whose samples need nothing kept from one sample to the next.
struct NoState {};

// results[i] = make(state, i) for i < count, on one worker thread per intra-op thread, each with its own State
// (from make_state()) and taking the next index from a shared counter. The calling thread reports progress as
// samples complete; if `progress` throws or a worker fails, the workers stop after their current sample and the
// exception propagates.
template <class MakeState, class Make>
auto generate_samples(int64_t count, MakeState make_state, Make make, const GenerationProgress& progress) {
  using State = decltype(make_state());
  using Result = std::decay_t<decltype(make(std::declval<State&>(), int64_t{0}))>;
  TORCH_CHECK(count > 0, "expected a positive number of samples but got ", count);
  std::vector<Result> results(static_cast<std::size_t>(count));
  const auto workers = std::min<int64_t>(at::get_num_threads(), count);
  SingleThreadedTorch single_threaded;
  std::atomic<int64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable changed;
  int64_t done = 0;
  std::exception_ptr failure;
  auto work = [&] {
    try {
      at::set_num_threads(1);  // MKL counts threads per thread: a new one would give its FFTs every core
      auto state = make_state();
      for (int64_t i = next++; i < count && !stop; i = next++) {
        results[static_cast<std::size_t>(i)] = make(state, i);
        std::lock_guard<std::mutex> lock(mutex);
        ++done;
        changed.notify_one();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      stop = true;
      changed.notify_one();
    }
  };
  // The first report (0 done) comes before any worker starts, so it never races with fast samples.
  if (progress) progress(0, count);
  std::vector<std::thread> threads;
  for (int64_t w = 0; w < workers; ++w) threads.emplace_back(work);
  auto join = [&] {
    for (auto& t : threads) t.join();
  };
  try {
    for (int64_t reported = 0;;) {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return done != reported || failure; });
      if (failure || done == count) break;
      reported = done;
      lock.unlock();
      if (progress) progress(reported, count);
    }
  } catch (...) {
    stop = true;
    join();
    throw;
  }
  join();
  if (failure) std::rethrow_exception(failure);
  if (progress) progress(count, count);
  return results;
}

}  // namespace physis::ops::detail
