#!/usr/bin/env bash
# Operator learning from the command line: datagen -> train-operator -> predict on a tiny antiderivative dataset,
# resume, transfer (--init), and the errors users make (exit 1 with file:line, nothing overwritten).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/expect.bash"
physis="$1"; work="$2"; rm -rf "$work"; mkdir -p "$work"; cd "$work"
check() { grep -q "$2" "$1" || { echo "FAIL: '$2' not in $1"; cat "$1"; fail=1; }; }

expect 0 "datagen antiderivative" -- "$physis" datagen antiderivative --samples 60 --sensors 20 --queries 16 \
  --output ad.h5 --progress none
check out.txt "samples/s"
expect 2 "datagen unknown generator" -- "$physis" datagen heat --output x.h5
cat > ad.yaml <<'YAML'
name: ad
data: {file: ad.h5}
split: {train: 50, test: 10}
model: {type: deeponet, basis: 16, branch_hidden: [32], trunk_hidden: [32]}
training: {epochs: 4, batch_size: 10, eval_every: 2, checkpoint_every: 2}
YAML
expect 0 "train-operator" -- "$physis" train-operator ad.yaml --output run --progress lines
check out.txt "test: mean relative L2"
for f in model.pt surrogate.yaml checkpoint.pt history.csv run.yaml; do
  [[ -s run/$f ]] || { echo "FAIL: train-operator did not write $f"; fail=1; }
done
expect 1 "refuses to overwrite a run" -- "$physis" train-operator ad.yaml --output run
check err.txt "already holds a run"
expect 0 "resume to more epochs" -- "$physis" train-operator ad.yaml --output run --resume --epochs 6
check out.txt "resumed at step 20"
expect 0 "predict on the test split" -- "$physis" predict run --write 2
check out.txt "on 10 samples"
[[ -s run/predictions/errors.csv && -s run/predictions/sample_0001.csv ]] || { echo "FAIL: predict outputs"; fail=1; }
expect 0 "predict on a file" -- "$physis" predict run --data ad.h5 --samples 0 1 2 --output p2
check out.txt "on 3 samples"
expect 0 "transfer with --init" -- "$physis" train-operator ad.yaml --output run2 --init run --epochs 1
check out.txt "initialised from run"
# --set overrides: they reach the model and the split, and predict applies them again to find the same test split.
expect 0 "train-operator --set" -- "$physis" train-operator --set split.test=5 ad.yaml --set 'model.basis=8' \
  --output run_set --epochs 1 --progress none
check out.txt "on 50 training / 5 test samples"
check run_set/surrogate.yaml "basis: 8"
expect 0 "predict a run trained with --set" -- "$physis" predict run_set --write 0
check out.txt "on 5 samples"
expect 1 "a mistake in --set" -- "$physis" train-operator ad.yaml --set model.basis=many --output r_setbad
check err.txt "set model.basis=many:1:13"

# Mistakes: the message names the file and line, exit 1.
sed 's/type: deeponet/type: deeponett/' ad.yaml > bad_model.yaml
expect 1 "unknown model type" -- "$physis" train-operator bad_model.yaml --output r3
check err.txt "bad_model.yaml:4:"
check err.txt "unknown model type 'deeponett'"
sed 's/file: ad.h5/file: missing.h5/' ad.yaml > bad_data.yaml
expect 1 "missing dataset file" -- "$physis" train-operator bad_data.yaml --output r4
check err.txt "bad_data.yaml:2:"
sed 's/epochs: 4/epoks: 4/' ad.yaml > bad_key.yaml
expect 1 "unknown training key" -- "$physis" train-operator bad_key.yaml --output r5
check err.txt "bad_key.yaml:5:"
head -c 3000 ad.h5 > truncated.h5
sed 's/file: ad.h5/file: truncated.h5/' ad.yaml > truncated.yaml
expect 1 "truncated dataset" -- "$physis" train-operator truncated.yaml --output r6
[[ ! -e r3 && ! -e r4 && ! -e r5 && ! -e r6/model.pt && ! -e r_setbad ]] || { echo "FAIL: a failed run left results"; fail=1; }
"$physis" datagen antiderivative --samples 5 --sensors 30 --queries 16 --output other.h5 --progress none >/dev/null
expect 1 "predict with a mismatched dataset" -- "$physis" predict run --data other.h5
check err.txt "expects 20"
expect 2 "predict on a missing run" -- "$physis" predict no_such_run

# Tasks as coefficient vectors: the Fisher generator and an MT-DeepONet with an MLP branch over u0 and c.
expect 0 "datagen fisher" -- "$physis" datagen fisher --samples 12 --resolution 16 --output fisher.h5 --progress none
check out.txt "generated 12 samples"
expect 2 "a darcy option on fisher" -- "$physis" datagen fisher --geometry cross --output f2.h5
cat > fisher.yaml <<'YAML'
data: {file: fisher.h5}
split: {train: 10, test: 2}
model: {type: mt-deeponet, basis: 8, branch_hidden: [16], trunk_hidden: [16]}
training: {epochs: 2, batch_size: 5}
YAML
expect 0 "mt-deeponet on fisher" -- "$physis" train-operator fisher.yaml --output fisher_run --progress none
check out.txt "test: mean relative L2"
# A model trained without the task coefficients (`drop: [params]`) predicts on files that carry them with --drop.
sed -e 's/file: fisher.h5}/file: fisher.h5, drop: [params]}/' -e 's/type: mt-deeponet/type: deeponet/' fisher.yaml \
  > fisher_noc.yaml
expect 0 "a model without params" -- "$physis" train-operator fisher_noc.yaml --output noc_run --progress none
expect 1 "predict without --drop on data with params" -- "$physis" predict noc_run --data fisher.h5 --write 0
check err.txt "physis predict --drop params"
expect 0 "predict --drop params" -- "$physis" predict noc_run --data fisher.h5 --write 0 --drop params
check out.txt "on 12 samples"
expect 2 "predict --drop of an unknown part" -- "$physis" predict noc_run --data fisher.h5 --drop fields
sed 's/basis: 8/basis: 8, output_factor: u1/' fisher.yaml > bad_factor.yaml
expect 1 "an output factor that is not a field" -- "$physis" train-operator bad_factor.yaml --output r7
check err.txt "bad_factor.yaml:3:"
check err.txt "its fields are u0"
sed 's/basis: 8/basis: 8, mask_output: true/' fisher.yaml > bad_mask.yaml
expect 1 "mask_output without a mask in the data" -- "$physis" train-operator bad_mask.yaml --output r8
check err.txt "bad_mask.yaml:3:"
check err.txt "mask_output needs a dataset with a mask"
exit $fail
