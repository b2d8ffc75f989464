#!/usr/bin/env bash
# Whether this tree's C library computes bit for bit what a revision's did:
# scripts/dev/bitwise-vs.sh REV builds REV's library (a git worktree) and this
# one's, runs scripts/dev/bitwise-digest.c against each, and compares the
# digests of every case. For refactors that must not change a result.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
rev="${1:?usage: scripts/dev/bitwise-vs.sh REV}"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach "$work/old" "$rev" >/dev/null 2>&1
for tree in old new; do
    src="$work/old"; [ "$tree" = new ] && src="$root"
    make -s -C "$src/CKernels" BUILD="$work/build-$tree" "$work/build-$tree/libcadamp.a" >/dev/null
    cc -O2 -std=c11 -I"$src/CKernels/include" "$root/scripts/dev/bitwise-digest.c" "$work/build-$tree/libcadamp.a" \
        -lgomp -lm -o "$work/digest-$tree"
done
"$work/digest-old" >"$work/old.txt" &
"$work/digest-new" >"$work/new.txt"
wait
if ! diff "$work/old.txt" "$work/new.txt" >"$work/diff.txt"; then
    head -20 "$work/diff.txt"
    echo "bitwise-vs: $(grep -c '^>' "$work/diff.txt") of $(wc -l <"$work/new.txt") cases differ from $rev" >&2
    exit 1
fi
echo "bitwise-vs $rev: $(wc -l <"$work/new.txt") cases, every one bitwise the same"
