#!/usr/bin/env bash
# The super-network's GPU work (deployable sub-networks), each step one prepared command.
#
#   bash bench/gpu_supernet.sh pack            # HERE, with the data beside the repo: .gpu/ = the CIFAR-10
#                                              #   JPEGs and the NB201 tables as tar.gz (24 MB) + wheels the GPU image lacks (carried)
#   bash bench/gpu_supernet.sh study           # THERE: throughput + the recipe study at a reduced schedule
#   bash bench/gpu_supernet.sh final [RECIPE]  # THERE: 200 epochs of RECIPE (resumes: rerun until complete),
#                                              #   then ship it (complete profile on the test split)
#   nagui bench supernet --records OUT/recipes.json      # HERE: adds the table columns (tau, gaps)
#   nagui supernet ship ...                               # or copy OUT/shipped-*/ into assets/supernet/
#
# On the device machine run it with carry [".gpu"] and OUT set (the tool's output folder); the
# run folder travels back as $OUT/final-run.tar; copy that file into .gpu/ here before the next
# call, and a second `final` command resumes it. GPU_SMOKE=1 runs every step tiny on the CPU,
# which is how this script is tested before any GPU time is spent.
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:?usage: gpu_supernet.sh pack|study|final [RECIPE]}
OUT=${OUT:-$PWD/.gpu/out}
GPU=$PWD/.gpu
PY=${PY:-python3}
SUPER_CELL='|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|'
if [ "${GPU_SMOKE:-0}" = 1 ]; then
  DEVICE=cpu; PRESET=quick; STUDY_EPOCHS=1; FINAL_EPOCHS=2; SIZE=(--train-per-class 20 --batch-size 32)
  TEST=(--test-images 100); SHIP=(--eval-images 100)
else
  DEVICE=cuda; PRESET=full; STUDY_EPOCHS=${STUDY_EPOCHS:-30}; FINAL_EPOCHS=${FINAL_EPOCHS:-200}; SIZE=(); TEST=()
  SHIP=()
fi
mkdir -p "$OUT"

setup_there() {   # the data and the packages the GPU image lacks; nagui itself from this checkout
  if [ ! -d "$GPU/data/cifar10-jpeg" ]; then mkdir -p "$GPU/data" && tar -xzf "$GPU/cifar10-jpeg.tar.gz" -C "$GPU/data"; fi
  if [ ! -d "$GPU/data/nb201" ]; then tar -xzf "$GPU/nb201.tar.gz" -C "$GPU/data"; fi
  if [ "${GPU_SMOKE:-0}" != 1 ] && ls "$GPU"/wheels/*.whl >/dev/null 2>&1; then   # (the smoke run has its venv)
    $PY -m pip install -q --no-index --no-deps --target /tmp/site "$GPU"/wheels/*.whl && export PYTHONPATH=/tmp/site
  fi
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} NAGUI_DATA_DIR=$GPU/data PYTHONUNBUFFERED=1
  export XDG_DATA_HOME=$GPU/home
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
}

case "$STEP" in
  pack)
    DATA=${NAGUI_DATA_DIR:-../shared/data}
    mkdir -p "$GPU/wheels"
    tar -czf "$GPU/cifar10-jpeg.tar.gz" -C "$DATA" cifar10-jpeg    # about 20 MB
    tar -czf "$GPU/nb201.tar.gz" -C "$DATA" nb201          # the table: ship records table accuracies there
    # what nagui's training, profiling and shipping import that the GPU image (Python 3.12) lacks:
    # thop (pure Python); pymoo is only used by the search strategies, not needed there
    $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any -d "$GPU/wheels" thop
    grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
    du -sh "$GPU"
    ;;
  study)
    setup_there
    $PY -m nagui bench supernet --parts recipes --recipes sandwich,progressive,sandwich-no-distill \
      --preset $PRESET --epochs $STUDY_EPOCHS --device $DEVICE "${SIZE[@]}" "${TEST[@]}" \
      --super-cell "$SUPER_CELL" --out "$OUT/study" 2>&1 | grep --line-buffered -v ' step ' | tee "$OUT/study.log"
    cp "$OUT/study/recipes.json" "$OUT/recipes.json"
    rm -rf "$OUT/study"                         # the run folders stay there; the records come back
    ;;
  final)
    RECIPE=${2:-progressive}
    setup_there
    RUN=$GPU/final-run
    if [ ! -d "$RUN" ] && [ -f "$GPU/final-run.tar" ]; then tar -xf "$GPU/final-run.tar" -C "$GPU"; fi   # resume
    $PY -m nagui.cli.supernet_train --run-dir "$RUN" --super-cell "$SUPER_CELL" --preset $PRESET \
      --recipe "$RECIPE" --epochs $FINAL_EPOCHS --train-per-class all "${SIZE[@]}" --device $DEVICE \
      --stop-after-epochs "${STOP_AFTER:-$FINAL_EPOCHS}" 2>&1 | grep --line-buffered -v ' step ' | tee "$OUT/final-train.log"
    $PY - "$RUN" <<'PYEOF'
import sys
from pathlib import Path
from nagui.supernet.run_folder import write_build
from nagui.supernet.checkpoint import read_checkpoint_meta
from nagui.nets.supernet import SuperNetSpec
meta = read_checkpoint_meta(sys.argv[1])
write_build(Path(sys.argv[1]), SuperNetSpec.from_dict(meta["spec"]), "full",
            {"strategy": "by hand (bench/gpu_supernet.sh: the CIFAR-10 acc-FLOPs build's super-cell)"})
print("complete" if meta["complete"] else f"{meta['epochs_done']}/{meta['epochs']} epochs: run `final` again")
PYEOF
    tar -cf "$OUT/final-run.tar" -C "$GPU" final-run
    if $PY -c "import sys; from nagui.supernet.checkpoint import read_checkpoint_meta as r; sys.exit(0 if r(sys.argv[1])['complete'] else 1)" "$RUN"; then
      $PY -m nagui supernet ship --run "$RUN" --name cifar10-flops --assets "$OUT/shipped" --device $DEVICE \
        "${SHIP[@]}" 2>&1 | tee "$OUT/ship.log"
      tar -cf "$OUT/shipped.tar" -C "$OUT" shipped && rm -rf "$OUT/shipped"
    fi
    ;;
  *) echo "unknown step $STEP (pack, study, final)" >&2; exit 2 ;;
esac
