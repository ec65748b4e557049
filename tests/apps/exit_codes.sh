#!/usr/bin/env bash
# The physis command: --help everywhere, exit code 2 for usage mistakes, 1 for bad input, 0 for success.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/expect.bash"
physis="$1"; work="$2"; rm -rf "$work"; mkdir -p "$work"; cd "$work"
expect 0 "top-level --help" -- "$physis" --help
grep -q "solve" out.txt || { echo "FAIL: --help does not list solve"; fail=1; }
for sub in info solve train-operator predict datagen; do
  expect 0 "$sub --help" -- "$physis" "$sub" --help
done
expect 2 "no subcommand" -- "$physis"
expect 2 "unknown subcommand" -- "$physis" frobnicate
expect 2 "unknown option" -- "$physis" solve --no-such-option
expect 2 "bad option value" -- "$physis" solve --steps -5
expect 2 "missing problem file" -- "$physis" solve /nonexistent/problem.yaml
expect 1 "unknown device" -- "$physis" solve --device tpu --steps 1 --output "$work/r0"
grep -q "unknown device 'tpu'" err.txt || { echo "FAIL: device error message"; cat err.txt; fail=1; }
expect 0 "info without measurement" -- "$physis" info --no-measure
grep -q "LibTorch" out.txt || { echo "FAIL: info prints no LibTorch version"; fail=1; }
expect 0 "short solve" -- "$physis" solve --steps 20 --progress lines --output "$work/r1"
for f in checkpoint.pt history.csv solution.csv; do
  [[ -s "$work/r1/$f" ]] || { echo "FAIL: solve did not write $f"; fail=1; }
done
expect 1 "refuses to overwrite a run" -- "$physis" solve --steps 20 --output "$work/r1"
grep -q "already holds a run" err.txt || { echo "FAIL: overwrite message"; fail=1; }
expect 1 "resume without checkpoint" -- "$physis" solve --resume --output "$work/none"
expect 0 "resume in another precision" -- "$physis" solve --steps 30 --resume --dtype float64 --progress lines --output "$work/r1"
grep -q "holds a Float network: converted to Double" out.txt || { echo "FAIL: dtype conversion message"; cat out.txt; fail=1; }
# A finished run resumed (e.g. with another reference) is evaluated as it stands and its outputs rewritten.
rm "$work/r1/solution.csv"
expect 0 "resume a finished run" -- "$physis" solve --steps 30 --resume --dtype float64 --progress lines --output "$work/r1"
grep -q "nothing left to train at step 30, l2re_u" out.txt || { echo "FAIL: a finished run's metrics"; cat out.txt; fail=1; }
[[ -s "$work/r1/solution.csv" ]] || { echo "FAIL: resuming a finished run did not write its fields"; fail=1; }
# A phase in its own precision: float32 Adam, then float64 L-BFGS in the same command, converted at the boundary.
cat > phases.yaml <<'YAML'
geometry: {rectangle: {min: [0, 0], max: [1, 1]}}
pde: {name: poisson, source: "2*pi^2*sin(pi*x)*sin(pi*y)"}
conditions: [{type: dirichlet, value: 0}]
network: {hidden: [16, 16]}
training:
  phases: [{optimizer: adam, steps: 20, lr: 0.01}, {optimizer: lbfgs, steps: 10, dtype: float64}]
  interior_points: 128
  boundary_points: 64
YAML
expect 0 "phases in two precisions" -- "$physis" solve phases.yaml --progress lines --output "$work/r4"
grep -q "holds a Float network: converted to Double" out.txt && grep -q "resumed at step 20" out.txt &&
  grep -q "done: 30 steps" out.txt || { echo "FAIL: precision switch between phases"; cat out.txt; fail=1; }
[[ $(tail -1 "$work/r4/history.csv" | cut -d, -f1) == 30 ]] || { echo "FAIL: history does not reach step 30"; fail=1; }
expect 0 "resume a finished two-precision run" -- "$physis" solve phases.yaml --resume --progress lines --output "$work/r4"
grep -q "nothing left to train at step 30" out.txt && ! grep -q "converted" out.txt ||
  { echo "FAIL: resuming a finished two-precision run"; cat out.txt; fail=1; }
# --set overrides: before or after the file, repeatable; a mistake in one names it, a --set without a file is refused.
expect 0 "--set overrides" -- "$physis" solve --set training.phases[0].steps=4 phases.yaml \
  --set 'training.phases[1]={optimizer: lbfgs, steps: 3, dtype: float64}' --progress lines --output "$work/set1"
grep -q "done: 7 steps" out.txt || { echo "FAIL: --set did not reach the phases"; cat out.txt; fail=1; }
grep -q "steps: 4," "$work/set1/problem.yaml" && grep -q "dtype: float64" "$work/set1/problem.yaml" ||
  { echo "FAIL: problem.yaml does not hold the problem as run"; cat "$work/set1/problem.yaml"; fail=1; }
expect 0 "the problem as run runs again" -- "$physis" solve "$work/set1/problem.yaml" --steps 2 --output "$work/set2"
expect 1 "a mistake in --set" -- "$physis" solve phases.yaml --set network.hidden=wide --output "$work/set3"
grep -q -- "--set network.hidden=wide:1:16: 'network.hidden' must be a list" err.txt ||
  { echo "FAIL: --set error message"; cat err.txt; fail=1; }
expect 1 "--set without a problem file" -- "$physis" solve --set network.hidden=[8] --output "$work/set4"
# Problem files with mistakes: exit 1, the message names the file and line.
printf 'geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poison}\n' > bad_pde.yaml
expect 1 "unknown PDE in a problem file" -- "$physis" solve bad_pde.yaml --output "$work/r2"
grep -q "bad_pde.yaml:2:" err.txt && grep -q "unknown PDE 'poison'" err.txt || { echo "FAIL: PDE error message"; cat err.txt; fail=1; }
printf 'geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson}\nreference:\n  file: nowhere.dat\n' > bad_ref.yaml
expect 1 "missing reference file" -- "$physis" solve bad_ref.yaml --output "$work/r3"
grep -q "bad_ref.yaml:4:" err.txt && grep -q "nowhere.dat" err.txt || { echo "FAIL: reference error message"; cat err.txt; fail=1; }
[[ ! -e "$work/r3/checkpoint.pt" ]] || { echo "FAIL: a failed start wrote a checkpoint"; fail=1; }
# An inverse problem: the unknown is reported (with its error against the true value) and crosses the precision
# switch between phases; observations from a CSV.
cat > inverse.yaml <<'YAML'
geometry: {interval: {min: 0, max: 1}}
unknowns: {k: {initial: 1.0, reference: 2}}
equations: ["u_xx + k*pi^2*sin(pi*x)"]
conditions:
  - {type: dirichlet, value: 0, hard: true}
  - {type: data, file: obs.csv}
network: {hidden: [16, 16]}
training:
  phases: [{optimizer: adam, steps: 20, lr: 0.01}, {optimizer: lbfgs, steps: 40, dtype: float64}]
  interior_points: 64
YAML
printf 'x,u\n0.25,1.4142135623730951\n0.5,2\n0.75,1.4142135623730951\n' > obs.csv
expect 0 "inverse problem" -- "$physis" solve inverse.yaml --progress lines --output "$work/r5"
relerr=$(sed -n 's/^done: .* k [^,]*, k_relerr \([^ ,]*\).*/\1/p' out.txt)
awk -v e="${relerr:-1}" 'BEGIN { exit !(e < 0.05) }' || { echo "FAIL: k not found (k_relerr '$relerr')"; cat out.txt; fail=1; }
grep -q "^step,.*,k,k_relerr" "$work/r5/history.csv" || { echo "FAIL: history.csv has no column for k"; fail=1; }
sed 's/obs.csv/bad_obs.csv/' inverse.yaml > bad_inverse.yaml
printf 'x,u\n0.25,abc\n' > bad_obs.csv
expect 1 "broken observations file" -- "$physis" solve bad_inverse.yaml --output "$work/r6"
grep -q "bad_inverse.yaml:6:" err.txt && grep -q "bad_obs.csv:2:" err.txt ||
  { echo "FAIL: observations error message"; cat err.txt; fail=1; }
exit $fail
