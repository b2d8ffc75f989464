#!/usr/bin/env python3
"""The C library's ABI, described and compared with its releases.

  scripts/ci/abi.py describe [HEADER]   the ABI a header declares, one fact a line:
                                     each function's signature (parameter
                                     names left out), each public struct's size,
                                     alignment and members' offsets and sizes,
                                     each constant's value (enums and #defines)
  scripts/ci/abi.py record              writes CKernels/abi/<version>.abi for the
                                     header's version (at a release)
  scripts/ci/abi.py check [LIBRARY]     compares this header with the releases in
                                     CKernels/abi (and, given the shared library,
                                     its exported symbols with the declared
                                     functions); fails when the ABI changed
                                     without the version saying so

A released version's ABI never changes. Against the newest release before
it, a version that changes or removes anything (a signature, a size or
offset, a constant's value) must have a greater MAJOR version; one that
only adds must be greater. A struct whose first member is `size` (the
caller's sizeof: e.g. adamp_step_options) may grow at its end."""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ADAMP_ABI_HEADER: another header to check (scripts/ci/check-abi.sh's own test).
HEADER = os.environ.get("ADAMP_ABI_HEADER") or os.path.join(ROOT, "CKernels", "include", "adamp.h")
RELEASES = os.path.join(ROOT, "CKernels", "abi")
CC = os.environ.get("CC", "cc")


def version_of(header):
    text = open(header).read()
    return tuple(int(re.search(rf"#define ADAMP_VERSION_{p} (\d+)", text).group(1)) for p in ("MAJOR", "MINOR", "PATCH"))


def _strip_name(param):
    """A parameter's declaration without its name: 'const adamp_config *config' -> 'const adamp_config *'."""
    param = " ".join(param.split())
    m = re.match(r"^(.*?[\s*])(\w+)(\[\d*\])?$", param)
    if not m or param in ("void",) or m.group(1).strip() in ("", "const", "struct", "enum", "unsigned"):
        return param
    return (m.group(1) + (m.group(3) or "")).strip()


def describe(header=HEADER):
    """The ABI lines of a header (sorted)."""
    flat = subprocess.run([CC, "-E", "-P", "-std=c11", header], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", "", flat)
    flat = re.sub(r'\s+', " ", flat)
    lines, probes = [], []
    for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", flat):
        name, body = m.group(1), m.group(2)
        probes.append(f'printf("struct {name} size %zu align %zu\\n", sizeof({name}), _Alignof({name}));')
        members = [d.strip() for d in body.split(";") if d.strip()]
        for k, d in enumerate(members):
            member = re.search(r"(\w+)\s*(\[[^\]]*\])?$", d).group(1)
            probes.append(f'printf("member {name}.{member} offset %zu size %zu{" first" if k == 0 else ""}\\n", '
                          f'offsetof({name}, {member}), sizeof((({name} *)0)->{member}));')
    for m in re.finditer(r"enum (?:\w+ )?\{(.*?)\}", flat):
        for c in m.group(1).split(","):
            c = c.split("=")[0].strip()
            if c:
                probes.append(f'printf("const {c} %lld\\n", (long long)({c}));')
    for m in re.finditer(r"^#define (ADAMP_[A-Z0-9_]+) ([^\\]+?)\s*$", open(header).read(), re.M):
        if not m.group(1).endswith("_") and not m.group(1).startswith("ADAMP_VERSION_") and re.fullmatch(r"[\w()<> +*-]+", m.group(2)) and "(" not in m.group(1):
            if not re.search(r"[a-z]", m.group(2)) or m.group(2).startswith("("):
                probes.append(f'printf("const {m.group(1)} %lld\\n", (long long)({m.group(1)}));')
    for m in re.finditer(r"([^;{}()]*?)\b(adamp_\w+) ?\(([^;{}]*)\) ?;", flat):
        ret, name, params = " ".join(m.group(1).split()), m.group(2), m.group(3)
        if ret.startswith("typedef") or not ret:
            continue
        sig = ", ".join(_strip_name(p) for p in params.split(",")) if params.strip() else "void"
        lines.append(f"function {name}: {ret} ({sig})")
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "probe.c"), os.path.join(d, "probe")
        with open(src, "w") as f:
            f.write("#include <stddef.h>\n#include <stdio.h>\n#include \"%s\"\nint main(void) {\n%s\nreturn 0;\n}\n"
                    % (header, "\n".join(probes)))
        subprocess.run([CC, "-std=c11", src, "-o", exe], check=True)
        lines += subprocess.run([exe], capture_output=True, text=True, check=True).stdout.splitlines()
    return sorted(set(lines))


def releases():
    """{version: lines} of every recorded release."""
    out = {}
    for name in os.listdir(RELEASES):
        m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\.abi", name)
        if m:
            with open(os.path.join(RELEASES, name)) as f:
                out[tuple(map(int, m.groups()))] = [l for l in f.read().splitlines() if l and not l.startswith("#")]
    return out


def _key(line):
    """What a line is about (its value aside): 'member adamp_tensor.step', 'const ADAMP_F32', ..."""
    if line.startswith("function "):
        return line.split(":")[0]
    if line.startswith("struct "):
        return " ".join(line.split()[:2])
    return " ".join(line.split()[:2])


def _growable(lines):
    return {l.split()[1].split(".")[0] for l in lines if l.startswith("member ") and l.endswith(" first")
            and l.split()[1].endswith(".size")}


def compare(old, new):
    """(breaking, added): what `new` changes or removes of `old`, and what it adds."""
    o, n = {_key(l): l for l in old}, {_key(l): l for l in new}
    grows = _growable(old)
    breaking = []
    for k, l in o.items():
        if n.get(k) == l:
            continue
        if k.startswith("struct ") and k.split()[1] in grows and k in n:
            old_size, new_size = int(l.split()[3]), int(n[k].split()[3])
            if new_size >= old_size and l.split()[5] == n[k].split()[5]:
                continue   # grew at its end; its members' offsets are checked one by one
        breaking.append(f"- {l}" + (f"\n+ {n[k]}" if k in n else " (removed)"))
    added = [f"+ {l}" for k, l in n.items() if k not in o]
    return breaking, added


def check(library=None):
    version, now, known = version_of(HEADER), describe(), releases()
    name = ".".join(map(str, version))
    problems = []
    if library:
        exported = set(subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True,
                                      check=True).stdout.split()) & {w for l in now for w in re.findall(r"adamp_\w+", l)}
        declared = {l.split()[1].rstrip(":") for l in now if l.startswith("function ")}
        exported = {s for s in subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True,
                                              text=True, check=True).stdout.split() if s.startswith("adamp_")}
        if exported != declared:
            problems.append(f"{os.path.basename(library)} exports {sorted(exported - declared)} beyond adamp.h, "
                            f"and lacks {sorted(declared - exported)}")
    if version in known:
        breaking, added = compare(known[version], now)
        if breaking or added:
            problems.append(f"version {name} is released (CKernels/abi/{name}.abi), and its ABI changed; "
                            f"give the change a new version (CHANGELOG):\n" + "\n".join(breaking + added))
        base = version
    else:
        older = [v for v in known if v < version]
        base = max(older) if older else None
        if base:
            breaking, added = compare(known[base], now)
            if breaking and version[0] <= base[0]:
                problems.append(f"the ABI of {name} breaks {'.'.join(map(str, base))}'s, and its MAJOR version "
                                f"is not greater:\n" + "\n".join(breaking))
    if problems:
        sys.exit("check-abi: " + "\n".join(problems))
    print(f"check-abi: adamp.h {name}: {len(now)} facts"
          + (f", against release {'.'.join(map(str, base))}: " if base else ", no earlier release recorded")
          + (f"{len(compare(known[base], now)[0])} changed or removed, {len(compare(known[base], now)[1])} added"
             if base else ""))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "check"
    if what == "describe":
        print("\n".join(describe(sys.argv[2] if len(sys.argv) > 2 else HEADER)))
    elif what == "record":
        path = os.path.join(RELEASES, ".".join(map(str, version_of(HEADER))) + ".abi")
        with open(path, "w") as f:
            f.write("# The ABI of this release of adamp.h (scripts/ci/abi.py record): never edited.\n")
            f.write("\n".join(describe()) + "\n")
        print(f"wrote {os.path.relpath(path, ROOT)}")
    elif what == "check":
        check(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        sys.exit(__doc__)
