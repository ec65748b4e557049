// What every training command shares: the resume/overwrite rules and the closing report.
#pragma once

#include "core/trainer.h"

namespace physis::app {

// Resumes from the output folder's checkpoint when `resume` is set (an error when there is none); refuses to start
// over a folder that already holds a run. Then trains to the end (or to step `until`).
TrainResult run_trainer(Trainer& trainer, bool resume, int64_t until = -1);

void report(const TrainResult& result);

}  // namespace physis::app
