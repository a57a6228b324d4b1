#!/usr/bin/env bash
# GPU check: ONE unattended command that measures, on one GPU in at most 10 minutes, training tokens/s and MFU
# (100m, 140m; bf16; compile on/off; vs transformers.Trainer), the scorer's items/s in fp32 and bf16 on BLiMP
# fast and their agreement, fine-tuning examples/s (vs Trainer), and the peak memory of each; writes
# benchmarks/gpu_check.json after every step and appends a "GPU check (<GPU>, <date>)" section to
# benchmarks/RESULTS.md. Steps, targets and the JSON: benchmarks/gpu_check.py.
#
# A session with a lent GPU (the device tool copies the working tree; nothing can be installed there, and the
# image lacks pydantic), once, HERE:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 typing-extensions==4.16.0
#   bash benchmarks/gpu_check.sh --stage-data shared/data     # the ~23 MB of data it reads (travels with the tree)
# then THE command, on the device (run tool: carry [".whl"], timeout_s 600):
#   CLASSIT_DATA=shared/data bash benchmarks/gpu_check.sh --setup
# and back here copy $files_at/gpu_check.json to benchmarks/ and the section at the end of $files_at/RESULTS.md
# into benchmarks/RESULTS.md (replacing the "GPU check: not measured" placeholder); remove shared/ after.
#
# Options:
#   --setup        make .venv-gpu: the interpreter `python3` (the image's torch/transformers/accelerate) plus
#                  the wheels in .whl/ and this repository on its path; without it .venv/bin/python is used
#   --cpu-smoke    every step at toy sizes on the CPU (about 3 minutes); writes --out only, not RESULTS.md
#   --budget S     total seconds (default 540: leaves the run tool's 600 s limit a margin)
#   --out PATH     the JSON (default benchmarks/gpu_check.json; smoke: ${TMPDIR:-/tmp}/gpu_check_smoke.json)
#   --scoring-model DIR   score with a trained HF model instead of a random 100m
#   --stage-data DIR      copy the data subset from $CLASSIT_DATA (or ../shared/data) to DIR and exit
# Data: $CLASSIT_DATA, else shared/data, else ../shared/data. Under the device tool ($OUT set) the JSON, the
# updated RESULTS.md and the log are copied to $OUT.
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
START=$SECONDS
SETUP=0 SMOKE=0 BUDGET=540 OUTJSON="" STAGE="" EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --setup) SETUP=1 ;;
    --cpu-smoke) SMOKE=1 ;;
    --budget) BUDGET=$2; shift ;;
    --out) OUTJSON=$2; shift ;;
    --scoring-model) EXTRA+=(--scoring-model "$2"); shift ;;
    --stage-data) STAGE=$2; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "${CLASSIT_DATA:-}" ]; then
  for d in shared/data ../shared/data; do [ -d "$d" ] && { CLASSIT_DATA=$d; break; }; done
fi
export CLASSIT_DATA=$(cd "${CLASSIT_DATA:-shared/data}" 2>/dev/null && pwd || echo "${CLASSIT_DATA:-shared/data}")
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false

if [ -n "$STAGE" ]; then     # what the steps read: BLiMP fast, RTE, the corpus the tokenizer is trained on
  mkdir -p "$STAGE/glue_filtered" "$STAGE/babylm_corpus" || exit 1
  cp -r "$CLASSIT_DATA/blimp_fast" "$STAGE/" && cp "$CLASSIT_DATA"/glue_filtered/rte.*.jsonl "$STAGE/glue_filtered/" \
    && cp -r "$CLASSIT_DATA/babylm_corpus/train_10M" "$CLASSIT_DATA/babylm_corpus/moritzlad_samples_train_600k" \
             "$STAGE/babylm_corpus/" || exit 1
  du -sh "$STAGE"; exit 0
fi

if [ "$SETUP" = 1 ]; then
  VENV=.venv-gpu
  python3 -m venv --without-pip --system-site-packages "$VENV" || exit 1
  SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # the parent interpreter's packages (python3 may itself be a venv, whose packages a nested venv would not see)
  python3 -c 'import site; print("\n".join(site.getsitepackages()))' > "$SITE/_parent_env.pth"
  echo "$REPO" > "$SITE/_classit_repo.pth"
  if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
      || exit 1
  fi
  PY=$VENV/bin/python
else
  PY=.venv/bin/python
  [ -x "$PY" ] || { echo "gpu_check.sh: no .venv here; pass --setup" >&2; exit 2; }
fi
if ! "$PY" -c 'import torch, transformers, accelerate, pydantic, classit_utils.config' 2>/tmp/gpu_check_import.err; then
  echo "gpu_check.sh: $PY cannot import what the check needs:" >&2; tail -3 /tmp/gpu_check_import.err >&2
  echo "(carry .whl with the wheels named in this script's header)" >&2; exit 3
fi

MODE=()
if [ "$SMOKE" = 1 ]; then MODE=(--cpu-smoke); OUTJSON=${OUTJSON:-${TMPDIR:-/tmp}/gpu_check_smoke.json}; fi
OUTJSON=${OUTJSON:-benchmarks/gpu_check.json}
rm -f "$OUTJSON"
LOG=${OUTJSON%.json}.log
RESERVE=20       # seconds kept for the report
echo "gpu_check: $PY, data $CLASSIT_DATA, budget ${BUDGET}s, out $OUTJSON" | tee "$LOG"
"$PY" benchmarks/gpu_check.py --list ${MODE[@]+"${MODE[@]}"} --out "$OUTJSON" > /tmp/gpu_check_steps.txt || exit 1
while read -r STEP LIMIT; do
  LEFT=$((BUDGET - (SECONDS - START) - RESERVE))
  if [ "$LEFT" -lt 15 ]; then
    "$PY" benchmarks/gpu_check.py --mark "$STEP" --status skipped --reason "budget: ${LEFT}s left" --out "$OUTJSON"
    echo "gpu_check $STEP: skipped (budget)" | tee -a "$LOG"; continue
  fi
  [ "$LIMIT" -gt "$LEFT" ] && LIMIT=$LEFT
  echo "gpu_check $STEP: up to ${LIMIT}s ($((SECONDS - START))s elapsed)" | tee -a "$LOG"
  timeout -k 10 "$LIMIT" "$PY" benchmarks/gpu_check.py --step "$STEP" ${MODE[@]+"${MODE[@]}"} ${EXTRA[@]+"${EXTRA[@]}"} \
    --out "$OUTJSON" >> "$LOG" 2>&1
  RC=$?
  if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
    "$PY" benchmarks/gpu_check.py --mark "$STEP" --status timeout --reason "killed after ${LIMIT}s" --out "$OUTJSON"
    echo "gpu_check $STEP: TIMEOUT after ${LIMIT}s" | tee -a "$LOG"
  else
    tail -1 "$LOG"
  fi
done < /tmp/gpu_check_steps.txt
"$PY" benchmarks/gpu_check.py --report ${MODE[@]+"${MODE[@]}"} --budget "$BUDGET" --out "$OUTJSON" 2>&1 | tee -a "$LOG"
echo "gpu_check: done in $((SECONDS - START))s" | tee -a "$LOG"
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
  cp "$OUTJSON" "$LOG" "$OUT/" 2>/dev/null; [ "$SMOKE" = 1 ] || cp benchmarks/RESULTS.md "$OUT/" 2>/dev/null
fi
exit 0
