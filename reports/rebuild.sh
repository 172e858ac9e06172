#!/usr/bin/env bash
# Rebuild the committed reports from a clean checkout: each report's studies are re-run into
# its results folder (one job: timing is never measured two jobs to two cores), the folder is
# pruned to what the report draws (`--prune`: the committed artifacts and curves), then the
# report is built from that folder alone. `reports/studies` is rebuilt from its committed results
# (re-running study 002 alone takes about an hour here); pass --rerun-studies to re-run it too.
# --page-only re-renders each named page from its committed results (no study is re-run; the
# index line keeps the run's commit and says which commit rendered the page).
# Usage: bash reports/rebuild.sh [--page-only] [--rerun-studies] [sample|fair-quick|cpu-scale|amortized|sparse-precond|streaming|learned-sketch|warm-start|studies ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "$(git status --porcelain -- nnbench pyproject.toml)" ]; then
  echo "reports/rebuild.sh: nnbench/ has uncommitted changes; commit them first" >&2
  exit 2
fi
py=${NNBENCH_PYTHON:-.venv/bin/python}
rerun_studies=0
page_only=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --rerun-studies) rerun_studies=1 ;;
    --page-only) page_only=1 ;;
    *) targets+=("$arg") ;;
  esac
done
studies=(worked-examples study000-reproduce study000-sensitivity study001-alphabet
         study002-reproduce lu-scale)

folders() {  # a report's committed results folders
  case "$1" in
    amortized) echo reports/amortized/results/* ;;
    studies) echo "${studies[@]/#/reports/studies/results/}" ;;
    *) echo "reports/$1/results" ;;
  esac
}
[ ${#targets[@]} -gt 0 ] || targets=(sample fair-quick cpu-scale amortized sparse-precond streaming learned-sketch warm-start studies)

fresh() {  # a new results folder: nothing reused from an earlier run or commit
  rm -rf "$1" && mkdir -p "$(dirname "$1")"
}

index() {  # reports/README.md (one line per report from its rebuild.txt) and reports/index.html
  {
    echo "# Committed reports"
    echo
    echo "Each was rebuilt by \`bash reports/rebuild.sh REPORT\` from the clean commit named (a"
    echo "fresh results folder, one job on this machine, pruned to what its page draws); its"
    echo "\`results/run.json\` holds the full provenance, its committed artifacts and curves redraw"
    echo "its figures. Open a report's \`index.html\` (figures embedded) or read its \`report.md\`."
    echo
    echo "| report | commit | finished (UTC) | machine | wall time | command |"
    echo "|---|---|---|---|---|---|"
    for f in reports/*/rebuild.txt; do cat "$f"; done
    echo
    echo "[index.html](index.html) lists every report with its headline sentences."
  } > reports/README.md
  $py -m nnbench.report.landing reports > /dev/null  # reports/index.html
}

for report in "${targets[@]}"; do
  echo "== reports/$report"
  if [ "$page_only" = 1 ]; then
    # shellcheck disable=SC2046  # the folders are words
    $py -m nnbench report --prune --results $(folders "$report") --out "reports/$report"
    sed -i -E "s/ \(([^;)]*)(; page re-rendered at [0-9a-f]+ from these results)?\) \|/ (\1; page re-rendered at $(git rev-parse --short HEAD) from these results) |/" \
      "reports/$report/rebuild.txt"
    index
    continue
  fi
  began=$(date +%s)
  case "$report" in
    sample)
      fresh reports/sample/results
      $py -m nnbench run --study quick --quick --runs 3 --no-progress --out reports/sample/results
      $py -m nnbench report --prune --results reports/sample/results --out reports/sample ;;
    fair-quick)
      fresh reports/fair-quick/results
      $py -m nnbench run --study fair-quick --no-progress --out reports/fair-quick/results
      $py -m nnbench report --prune --results reports/fair-quick/results --out reports/fair-quick ;;
    cpu-scale)
      fresh reports/cpu-scale/results
      $py -m nnbench run --study gpu-scale --devices cpu --methods classical \
        --sizes 256,512,1024 --dtypes float64,float32 --repeats 2 --no-progress \
        --out reports/cpu-scale/results
      $py -m nnbench report --prune --results reports/cpu-scale/results --out reports/cpu-scale ;;
    amortized)
      for study in amortized-lu amortized-sketch amortized-precond; do
        fresh "reports/amortized/results/$study"
        $py -m nnbench run --study "$study" --no-progress --out "reports/amortized/results/$study"
      done
      $py -m nnbench report --prune --results reports/amortized/results/* --out reports/amortized ;;
    sparse-precond)
      fresh reports/sparse-precond/results
      $py -m nnbench run --study sparse-precond --no-progress --out reports/sparse-precond/results
      $py -m nnbench report --prune --results reports/sparse-precond/results --out reports/sparse-precond ;;
    streaming)
      fresh reports/streaming/results
      $py -m nnbench run --study streaming --runs 3 --no-progress --out reports/streaming/results
      $py -m nnbench report --prune --results reports/streaming/results --out reports/streaming ;;
    warm-start)
      fresh reports/warm-start/results
      $py -m nnbench run --study lu-warm-start --runs 3 --no-progress --out reports/warm-start/results
      $py -m nnbench report --prune --results reports/warm-start/results --out reports/warm-start ;;
    learned-sketch)
      fresh reports/learned-sketch/results
      $py -m nnbench run --study learned-sketch --runs 3 --no-progress --out reports/learned-sketch/results
      $py -m nnbench report --prune --results reports/learned-sketch/results --out reports/learned-sketch ;;
    studies)
      if [ "$rerun_studies" = 1 ]; then
        for study in "${studies[@]}"; do
          fresh "reports/studies/results/$study"
          $py -m nnbench run --study "$study" --no-progress --out "reports/studies/results/$study"
        done
      fi
      $py -m nnbench report --prune --results "${studies[@]/#/reports/studies/results/}" \
        --out reports/studies ;;
    *) echo "reports/rebuild.sh: unknown report '$report'" >&2; exit 2 ;;
  esac
  rerun="re-run"
  [ "$report" = studies ] && [ "$rerun_studies" = 0 ] && rerun="page only, from committed results"
  echo "| [$report]($report/report.md) | $(git rev-parse --short HEAD) | $(date -u +%Y-%m-%dT%H:%MZ) |" \
    "$(nproc) cores, $(uname -m) | $(( $(date +%s) - began )) s ($rerun) |" \
    "\`bash reports/rebuild.sh $report\` |" > "reports/$report/rebuild.txt"
  index
done
