#!/usr/bin/env bash
# The README's test command, RUNS full runs in a row (three by default), while two CPU-bound
# processes keep the machine busy: the suite must not depend on a quiet machine (issue 19).
#
# Usage: [RUNS=N] scripts/suite_under_load.sh [PYTHON]   (RUNS: full runs, default 3)
#   PYTHON  the interpreter whose environment has statdash installed with its dev extra
#           (default: .venv/bin/python if it exists, else python3)
# Prints each run's result line and wall time, then a summary; exits 1 if any run failed.
# The load processes are always killed on the way out (normal end, failure, Ctrl+C).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
HOGS=2
python="${1:-}"
if [[ -z "$python" ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi

hog_pids=()
stop_hogs() {
    local pid
    for pid in "${hog_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${hog_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in $(seq "$HOGS"); do
    python3 -c "while True: pass" &
    hog_pids+=("$!")
done
echo "load: ${HOGS} CPU-bound processes (pids ${hog_pids[*]}) on $(nproc) cores"

failed=0
summary=()
for run in $(seq "$RUNS"); do
    log="$(mktemp)"
    started=$(date +%s)
    status=0
    "$python" -m pytest -q -p no:cacheprovider >"$log" 2>&1 || status=$?
    seconds=$(($(date +%s) - started))
    result="$(grep -E '^[=]* ?[0-9]+ (passed|failed|error)' "$log" | tail -n 1 | tr -d '=' || true)"
    result="${result:-$(tail -n 1 "$log")}"
    line="run ${run}/${RUNS}: exit ${status}, ${seconds} s wall; ${result}"
    echo "$line"
    summary+=("$line")
    if [[ $status -ne 0 ]]; then
        failed=1
        echo "--- failures of run ${run} ---"
        grep -E '^(FAILED|ERROR) ' "$log" || tail -n 40 "$log"
    fi
    rm -f "$log"
done

echo "=== summary ==="
printf '%s\n' "${summary[@]}"
exit "$failed"
