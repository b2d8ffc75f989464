#!/usr/bin/env bash
# adamp-demo as a user runs it (a small task, debug build): the table, a CSV
# with every epoch, an SVG that parses; a run stopped and resumed from its
# checkpoint writes the same CSV as an uninterrupted one; bad options exit
# with status 2 and one line naming the option, bad data with status 1 and a
# line naming the file.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
swift build -q --product adamp-demo
demo="$(swift build --show-bin-path)/adamp-demo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
small=(--train 1024 --test 256 --hidden 32 --batch 64 --epochs 2)
fails=0
fail() { echo "FAIL adamp-demo: $*" >&2; fails=$((fails + 1)); }

"$demo" "${small[@]}" --csv "$work/a.csv" --svg "$work/a.svg" >"$work/out.txt"
grep -q "^AdamP      2 " "$work/out.txt" || fail "no table row for AdamP's epoch 2: $(cat "$work/out.txt")"
grep -q "optimizer step" "$work/out.txt" || fail "no time split"
[ "$(wc -l <"$work/a.csv")" -eq 16 ] || fail "the CSV has $(wc -l <"$work/a.csv") lines, expected a header and 5 optimizers x 3 epochs"
head -1 "$work/a.csv" | grep "^optimizer,precision,epoch,lr,train_loss,test_loss,test_accuracy,fc1_norm," >/dev/null || fail "CSV header: $(head -1 "$work/a.csv")"
if command -v python3 >/dev/null; then
    python3 -c "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); assert len(d.getElementsByTagName('polyline')) == 20" "$work/a.svg" \
        || fail "the SVG does not parse or lacks its 20 lines (4 panels of a family's 2 or 3, accuracy and step: 5 each)"
    # Counts are integers (they were written 1.0, 32.0).
    python3 -c "
import csv, sys, re
rows = list(csv.reader(open(sys.argv[1])))
counts = [i for i, h in enumerate(rows[0]) if h == 'epoch' or h.endswith('_steps')]
bad = [r[i] for r in rows[1:] for i in counts if not re.fullmatch('[0-9]+', r[i])]
assert len(counts) == 7 and not bad, bad[:5]" "$work/a.csv" || fail "the CSV's counts are not integers"
fi
# A run of one epoch draws its points (a line of one point is invisible).
"$demo" "${small[@]}" --epochs 1 --optimizers sgd,adamp --csv "$work/one.csv" --svg "$work/one.svg" >/dev/null
grep -q "<circle" "$work/one.svg" || fail "a one-epoch run's chart marks no points"
# --stop-after 0 without a checkpoint runs no epoch, and says so.
"$demo" "${small[@]}" --stop-after 0 --optimizers sgd --csv "$work/z.csv" --svg "$work/z.svg" >"$work/zero.txt"
grep -q "(no epoch run: stopped after epoch 0)" "$work/zero.txt" || fail "--stop-after 0: $(tail -3 "$work/zero.txt")"

"$demo" "${small[@]}" --checkpoint "$work/ck" --stop-after 1 --csv "$work/b.csv" --svg "$work/b.svg" >/dev/null
"$demo" "${small[@]}" --checkpoint "$work/ck" --csv "$work/b.csv" --svg "$work/b.svg" >"$work/resumed.txt"
grep -q "AdamP: resumed from .* after epoch 1" "$work/resumed.txt" || fail "no resume reported: $(cat "$work/resumed.txt")"
cmp -s "$work/a.csv" "$work/b.csv" || fail "a stopped and resumed run's CSV differs from an uninterrupted run's"

# bf16 (split masters): beside float32 in one run, a row and a lighter line
# each; stopped and resumed, the same numbers.
"$demo" "${small[@]}" --precision both --optimizers sgd,adamp --csv "$work/p.csv" --svg "$work/p.svg" >"$work/p.txt"
grep -q "^AdamP bf16 2 " "$work/p.txt" || fail "no table row for AdamP bf16's epoch 2: $(tail -5 "$work/p.txt")"
grep -q "^bf16 products: " "$work/p.txt" || fail "bf16 run does not say how its products run"
[ "$(grep -c "^adamp,bf16," "$work/p.csv")" -eq 3 ] || fail "the CSV lacks AdamP bf16's 3 epochs"
grep -q 'opacity="0.45"' "$work/p.svg" || fail "the chart draws no lighter bf16 line"
"$demo" "${small[@]}" --precision bf16 --optimizers adamp --checkpoint "$work/ckp" --stop-after 1 --csv "$work/q.csv" --svg "$work/q.svg" >/dev/null
"$demo" "${small[@]}" --precision bf16 --optimizers adamp --checkpoint "$work/ckp" --csv "$work/q.csv" --svg "$work/q.svg" >/dev/null
diff <(grep "^adamp,bf16," "$work/p.csv") <(grep "^adamp,bf16," "$work/q.csv") >/dev/null || fail "a stopped and resumed bf16 run differs"

# expect STATUS "words of the one line" args...
expect() {
    local code="$1" want="$2"; shift 2
    local err status=0
    err=$("$demo" "$@" 2>&1 >/dev/null) || status=$?
    if [ "$status" -ne "$code" ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! grep -qF -- "$want" <<<"$err"; then
        fail "$*: status $status, wanted $code and one line with \"$want\"; got: $err"
    fi
}
expect 2 'unknown option "--bogus"' --bogus
expect 2 '--epochs must be an integer in [1, 100000] (got "0")' --epochs 0
expect 2 '--hidden must be an integer in [2, 8192] (got "1000000")' --hidden 1000000
expect 2 '--optimizers: "adamq" is not one of' --optimizers adamq
expect 2 '--noise must be a number in [0, 1]' --noise 2
expect 2 '--idx needs a value' --idx
expect 1 "$work/none/train-images-idx3-ubyte: no such file" --idx "$work/none"
mkdir "$work/bad" && printf 'not an idx file at all' >"$work/bad/train-images-idx3-ubyte"
expect 1 "$work/bad/train-images-idx3-ubyte: magic number is" --idx "$work/bad"
expect 1 "fewer than one batch of 4096" --train 100 --batch 4096
expect 2 '--optimizers: "sgd" is named twice' --optimizers sgd,adamp,sgd
expect 2 '--precision: "fp8" is not one of f32, bf16 or both' --precision fp8
expect 2 '--precision: "bf16,bf16" names one twice' --precision bf16,bf16
expect 2 '--precision needs a value' --precision
# Outputs that cannot be written are refused before any training.
expect 2 "--csv: cannot write $work/none/a.csv: the folder $work/none does not exist" --csv "$work/none/a.csv"
expect 2 "--svg: $work is a folder" --svg "$work"
expect 1 "--batch 65536 and --hidden 8192 need about" --train 65536 --test 10 --batch 65536 --hidden 8192
[ "$fails" -eq 0 ] || exit 1
echo "adamp-demo: table, CSV, SVG, resume and bad input checked"
