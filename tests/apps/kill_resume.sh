#!/usr/bin/env bash
# A run killed with SIGKILL while it writes checkpoints constantly leaves a loadable checkpoint, and --resume
# continues from it to the end.
set -u
physis="$1"; work="$2"; rm -rf "$work"; mkdir -p "$work"; cd "$work"
"$physis" solve --steps 100000 --checkpoint-every 1 --progress none --output run --threads 1 >log.txt 2>&1 &
pid=$!
for _ in $(seq 1 300); do [[ -s run/checkpoint.pt ]] && break; sleep 0.2; done
sleep 1.5
kill -9 "$pid"; wait "$pid" 2>/dev/null
[[ -s run/checkpoint.pt ]] || { echo "FAIL: no checkpoint written before the kill"; cat log.txt; exit 1; }
# Resume with a short total: the checkpoint must load (a truncated one would fail), and training must finish.
step=$(tail -n 1 run/history.csv | cut -d, -f1)
echo "killed; last history row at step $step"
"$physis" solve --resume --steps 100000 --progress none --output run --threads 1 >resume.txt 2>&1 &
pid=$!
# Wait (up to a minute, however loaded the machine) for the resume to report, then stop it.
for _ in $(seq 1 300); do grep -q "resumed at step" resume.txt && break; sleep 0.2; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
grep -q "resumed at step" resume.txt || { echo "FAIL: resume did not load the checkpoint"; cat resume.txt; exit 1; }
grep "resumed at step" resume.txt
echo "ok"
