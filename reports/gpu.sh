#!/usr/bin/env bash
# The GPU part of the committed reports, in one command sized for a lent H100/H200 (at most
# about 8 minutes in all): fair-gpu, then gpu-scale, each run with a --deadline after which
# no cell starts (the cells left are skipped rows that say so), each built into its own
# report. Run on the device machine from the repository root:
#   bash reports/gpu.sh OUTDIR            # e.g. OUTDIR=$OUT; then commit OUTDIR's reports
#   bash reports/gpu.sh OUTDIR --quick    # the CPU path of the same script (CI-sized)
# Needs nnbench's dependencies; a bare GPU image lacks tabulate, threadpoolctl and pyamg:
# put their wheels in shared/wheels (pip download -d shared/wheels tabulate threadpoolctl
# pyamg) and the script installs them from there, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash reports/gpu.sh OUTDIR [--quick]}
quick=${2:-}
py=${NNBENCH_PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if ! $py -c "import tabulate, threadpoolctl, pyamg" 2>/dev/null && [ -d shared/wheels ]; then
  $py -m pip install --quiet --no-index --find-links shared/wheels tabulate threadpoolctl pyamg
fi
nvidia-smi -L 2>/dev/null || echo "no nvidia-smi: the CUDA cells will be skipped rows"
began=$(date +%s)
run() {  # STUDY DEADLINE_S
  local folder="$out/$1"
  if [ "$quick" = "--quick" ]; then
    $py -m nnbench run --study "$1" --quick --no-progress --out "$folder/results"
  else
    $py -m nnbench run --study "$1" --deadline "$2" --no-progress --out "$folder/results"
  fi
  $py -m nnbench report --prune --results "$folder/results" --out "$folder"
  echo "== $1: $(( $(date +%s) - began )) s since the start"
}
run fair-gpu 270
run gpu-scale 120
