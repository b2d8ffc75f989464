#!/usr/bin/env bash
# adamp-bench on bad input: each case must print one line naming the flag or
# file and the problem, and exit with status 2 (never a crash, never a trace);
# then one good run of --idle.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
swift build -q --product adamp-bench
bench="$(swift build --show-bin-path)/adamp-bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo '[[4611686018427387904, 4]]' > "$work/overflow.json"
echo '{"shapes": [[9223372036854775807], [1]]}' > "$work/sum.json"
echo '[[1, 2]' > "$work/malformed.json"
echo '[[0, 3]]' > "$work/zero.json"
echo '[[1099511627776]]' > "$work/huge.json"
fails=0 total=0
# expect "words the one line must contain" args...
expect() {
    local want="$1"; shift
    local err status=0
    total=$((total + 1))
    err=$("$bench" "$@" 2>&1 >/dev/null) || status=$?
    if [ "$status" -ne 2 ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! grep -qF -- "$want" <<<"$err"; then
        echo "FAIL adamp-bench $*: status $status, wanted 2 and one line with \"$want\"; got: $err" >&2
        fails=$((fails + 1))
    fi
}
expect "--shapes $work/overflow.json: shape [4611686018427387904, 4] has more elements" --shapes "$work/overflow.json"
expect "--shapes $work/sum.json: the shapes' total element count overflows" --shapes "$work/sum.json"
expect "--shapes $work/malformed.json: not valid JSON" --shapes "$work/malformed.json"
expect "--shapes $work/missing.json: no such file" --shapes "$work/missing.json"
expect "--shapes $work: is a directory" --shapes "$work"
expect "--shapes $work/zero.json: expected a non-empty JSON list" --shapes "$work/zero.json"
expect "--shapes $work/huge.json: 1099511627776 parameters need about" --shapes "$work/huge.json"
expect "--threads must be in [0, " --threads -3
expect "--threads must be in [0, " --threads 100000
expect "--threads needs a whole number" --threads x
expect "--block must be >= 0" --block -1
expect "--steps must be > 0" --steps 0
expect "--warmup must be >= 0" --warmup -1
expect "--model nope: unknown model" --model nope
expect "--optimizer adamq: unknown" --optimizer adamq
expect "unknown argument --fast" --fast
expect "--isa takes one of" --isa sse
expect "--contention prints its own table" --contention --json
expect "--contention prints its own table" --contention --idle
expect "--idle prints its own table" --idle --diagnostics
expect "--gradients takes one of" --gradients sideways
expect "--projection takes one of auto, rules" --projection always
expect "--dtype takes one of f32, bf16, f16" --dtype fp8
expect "--master takes one of off, float32, split" --master half
expect "--master float32 keeps bf16 or f16 parameters: add --dtype" --master float32
expect "--master split keeps bf16 parameters only" --dtype f16 --master split
echo "adamp-bench bad input: $((total - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
# --idle, run as documented: a line per optimizer with the CPU it measured.
out=$("$bench" --idle --model resnet18 --optimizer adam --steps 2 --warmup 0 --allow-debug)
grep -qE '^adam +[0-9]+\.[0-9]+ ms \([0-9]+\.[0-9]+\)$' <<<"$out" || { echo "adamp-bench --idle printed: $out" >&2; exit 1; }
echo "adamp-bench --idle: $(tail -1 <<<"$out")"
# --projection rules: AdamP's normalised weights channel-projected by their rule, the rest never.
out=$("$bench" --model resnet18 --optimizer adamp --projection rules --steps 2 --warmup 1 --allow-debug 2>/dev/null)
grep -qE '^  adamp +unprojected [0-9]+, channel [0-9]+ per step$' <<<"$out" || { echo "adamp-bench --projection rules printed: $out" >&2; exit 1; }
echo "adamp-bench --projection rules: $(grep -E '^  adamp ' <<<"$out")"
