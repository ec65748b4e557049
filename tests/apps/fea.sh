#!/usr/bin/env bash
# The fea generator from the command line: Gmsh + CalculiX on two coarse designs (a dataset, a CSV, a .vtu and a
# history CSV per design), a missing ccx, a ccx that fails every design, and an option of another generator.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/expect.bash"
physis="$1"; work="$2"; rm -rf "$work"; mkdir -p "$work"; cd "$work"
check() { grep -q "$2" "$1" || { echo "FAIL: '$2' not in $1"; cat "$1"; fail=1; }; }
coarse=(--samples 2 --mesh-size 4 --increments 4 --progress none)

if ! "$physis" info | grep -q "Gmsh meshing *yes"; then
  expect 1 "datagen fea without Gmsh" -- "$physis" datagen fea -o out "${coarse[@]}"
  check err.txt "lacks Gmsh"
  exit $fail
fi
if ! command -v "${PHYSIS_CCX:-ccx}" >/dev/null; then
  echo "SKIPPED: CalculiX (ccx) is not installed; scripts/setup installs it"
  exit $fail
fi

expect 0 "datagen fea" -- "$physis" datagen fea -o out "${coarse[@]}"
check out.txt "samples/s"
for f in out/fea.h5 out/fea.csv out/fea/design_0000.vtu out/fea/design_0001.csv; do
  [[ -s $f ]] || { echo "FAIL: datagen fea did not write $f"; fail=1; }
done
check out/fea.csv "file,history,height,hole_radius,hole_pitch,hole_offset"
check out/fea/design_0001.csv "load_fraction,reaction_force"
[[ ! -e out/fea_failed ]] || { echo "FAIL: a run without failures left out/fea_failed"; fail=1; }

expect 1 "datagen fea with a missing ccx" -- \
  env PHYSIS_CCX=/nonexistent/ccx "$physis" datagen fea -o missing "${coarse[@]}"
check err.txt "PHYSIS_CCX"
[[ ! -e missing/fea.h5 ]] || { echo "FAIL: a failed generation wrote a dataset"; fail=1; }

expect 1 "datagen fea where every design fails" -- "$physis" datagen fea -o failing --ccx false "${coarse[@]}"
check err.txt "2 of 2 designs failed"
check err.txt "every design failed"
[[ -s failing/fea_failed/failures.csv && ! -e failing/fea.h5 ]] || { echo "FAIL: failures.csv / no dataset"; fail=1; }

expect 2 "an fea option on another generator" -- "$physis" datagen darcy --mesh-size 2 -o d.h5
check err.txt "does not apply"
exit $fail
