#!/usr/bin/env python3
"""Every code block of the README and docs/, run as a reader would run it.

Each Markdown file the repository tracks (the DocC catalogs aside: their
examples are copies of these, which scripts/build-docs.sh checks) is read
for fenced code blocks; an indented code block is an error (it has no
language, so nothing could run it). Every block is run, in the order of its
document, in a working folder of that document's own, which holds links to
the clone's top-level entries (so `scripts/...` and `Examples/...` resolve
as they do in a clone) and whatever the document's earlier blocks wrote:

  swift    a program (main.swift) of a package that depends on this one by
           path, built with every other such block in one package, then run;
           a block starting `// swift-tools-version` is a Package.swift, and
           the next swift block of its document is its main.swift, built in a
           folder beside a copy of the clone named as its path dependency says
  python   run by $ADAMP_PYTHON (else .venv/bin/python), where cadamp, torch
           and adamp are installed (scripts/ci/check-python.sh installs cadamp)
  c        compiled (-Wall -Wextra -Werror) and linked by pkg-config against
           the C library installed in a temporary prefix, then run
  cmake    a CMakeLists.txt, configured and built against that install
  sh       run by bash -euo pipefail, with that install and the venv first
           in the search paths
  text     output or data shown, not run

An HTML comment on the line before a block (invisible on GitHub) says more:

  <!-- snippet: lines "3" "unprojected" -->   its output is these lines
  <!-- snippet: expect "rank 0 of 2" -->      a line of its output contains this
  <!-- snippet: creates run/x.safetensors --> it leaves this file
  <!-- snippet: runs 2 -->                    run twice (e.g. resuming from a save)
  <!-- snippet: mpirun 2 -->                  on 2 MPI ranks
  <!-- snippet: beside Examples/c -->         with that folder's files in its folder
  <!-- snippet: skip "why" -->                sh only: not run (a network
      download, a system-wide install, the CI itself, or a command a script of
      the test command runs); still parsed by bash -n, its repository paths
      must exist, and its `swift run` products and `make -C CKernels` targets too.

Usage: python3 scripts/ci/check-snippets.py [FILE.md ...]
       python3 scripts/ci/check-snippets.py --self-test
The self-test runs each file of Tests/Snippets, whose first line says
`<!-- fails: text -->`, and requires it to fail with that text.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LANGS = {"swift", "python", "c", "cmake", "sh", "text"}
DIRECTIVE = re.compile(r"^<!--\s*snippet:(.*?)-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")
LIST_OR_CONTINUATION = re.compile(r"^(\s+|[-*+] |\d+[.)] )")


class Block:
    def __init__(self, doc, line, lang, text, directive):
        self.doc, self.line, self.lang, self.text = doc, line, lang, text
        self.where = f"{doc}:{line}"
        self.opts = {}
        words = shlex.split(directive) if directive else []
        keys = {"lines": -1, "expect": -1, "creates": -1, "runs": 1, "mpirun": 1, "beside": 1, "skip": 1}
        i = 0
        while i < len(words):
            key = words[i]
            if key not in keys:
                fail(self, f"unknown snippet directive {key!r} (known: {', '.join(keys)})")
            n = keys[key]
            args = words[i + 1:i + 1 + n]
            if n < 0:  # takes the words up to the next key
                args = []
                for w in words[i + 1:]:
                    if w in keys:
                        break
                    args.append(w)
            if not args:
                fail(self, f"snippet directive {key!r} needs a value")
            self.opts[key] = args
            i += 1 + len(args)
        if "skip" in self.opts and lang != "sh":
            fail(self, "only a sh block may be skipped: make it complete and runnable")


def fail(block, message):
    where = block.where if isinstance(block, Block) else block
    sys.exit(f"check-snippets: {where}: {message}")


def parse(doc):
    """The fenced blocks of `doc`; an indented code block is an error."""
    lines = open(os.path.join(ROOT, doc), encoding="utf-8").read().split("\n")
    blocks, i, previous = [], 0, ""
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            lang, start = m.group(1), i
            directive = DIRECTIVE.match(lines[i - 1]) if i else None
            i += 1
            body = []
            while i < len(lines) and lines[i] != "```":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                fail(f"{doc}:{start + 1}", "a code block that is never closed")
            if lang not in LANGS:
                fail(f"{doc}:{start + 1}", f"a code block in {lang or 'no language'}: "
                     f"give it one of {', '.join(sorted(LANGS))}")
            blocks.append(Block(doc, start + 1, lang, "\n".join(body) + "\n",
                                directive.group(1) if directive else ""))
            previous = "```"
        elif lines[i].startswith("    ") and lines[i].strip() and not previous.strip() and i > 0:
            # A paragraph after a blank line, indented four: code, unless it
            # continues a list item.
            above = next((l for l in reversed(lines[:i]) if l.strip()), "")
            if not LIST_OR_CONTINUATION.match(above) and not above.startswith("```") and not above.startswith("|"):
                fail(f"{doc}:{i + 1}", "an indented code block: fence it with its language (```sh)")
        if not m:
            previous = lines[i]
        i += 1
    return blocks


def run(cmd, cwd, env, block):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, shell=isinstance(cmd, str), executable="/bin/bash" if isinstance(cmd, str) else None)
    if p.returncode != 0:
        fail(block, f"failed (exit status {p.returncode}):\n{block.text}---\n{p.stdout}")
    return p.stdout


def check_output(block, out, cwd):
    if "lines" in block.opts and out.rstrip("\n").split("\n") != block.opts["lines"]:
        fail(block, f"printed\n{out}instead of\n" + "\n".join(block.opts["lines"]))
    for want in block.opts.get("expect", []):
        if not any(want in line for line in out.split("\n")):
            fail(block, f"printed no line containing {want!r}:\n{out}")
    for path in block.opts.get("creates", []):
        if not os.path.exists(os.path.join(cwd, path)):
            fail(block, f"left no {path}")


def copy_clone(dest):
    """The tracked and untracked-but-not-ignored files, as check-dependent copies them."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           cwd=ROOT, stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, f))


class Runner:
    def __init__(self, work):
        self.work = work
        self.python = os.environ.get("ADAMP_PYTHON", os.path.join(ROOT, ".venv/bin/python"))
        self.has_python = subprocess.run(
            [self.python, "-c", "import torch, adamp, cadamp"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0 if os.path.exists(self.python) else False
        self.prefix = os.path.join(work, "prefix")
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = os.path.join(self.prefix, "lib/pkgconfig")
        env["LD_LIBRARY_PATH"] = os.path.join(self.prefix, "lib") + ":" + env.get("LD_LIBRARY_PATH", "")
        env["CMAKE_PREFIX_PATH"] = self.prefix
        if self.has_python:
            env["PATH"] = os.path.dirname(self.python) + ":" + env["PATH"]
        self.env = env
        self.installed = False
        self.swift_bin = None
        self.mpirun = ["mpirun", "--oversubscribe", "--timeout", "120"] + (["--allow-run-as-root"] if os.getuid() == 0 else [])

    def folder(self, block):
        """The document's working folder: links to the clone's top-level entries."""
        d = os.path.join(self.work, "docs", re.sub(r"[^A-Za-z0-9]+", "-", block.doc))
        if not os.path.isdir(d):
            os.makedirs(d)
            for entry in os.listdir(ROOT):
                if entry not in ("Package.swift", ".build", ".git", "build", ".venv", "Package.resolved"):
                    os.symlink(os.path.join(ROOT, entry), os.path.join(d, entry))
        cwd = d
        if "beside" in block.opts:
            cwd = os.path.join(d, f"block-{block.line}")
            os.makedirs(cwd, exist_ok=True)
            for f in glob.glob(os.path.join(ROOT, block.opts["beside"][0], "*")):
                if os.path.isfile(f):
                    shutil.copy2(f, cwd)
        return cwd

    def install(self):
        if not self.installed:
            subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "CKernels"), "install", f"PREFIX={self.prefix}"],
                           check=True, stdout=subprocess.DEVNULL)
            self.installed = True

    def build_swift(self, programs):
        """One package, one executable per program, depending on this one by path."""
        pkg = os.path.join(self.work, "swift")
        targets = []
        for b in programs:
            name = "snippet_" + re.sub(r"[^A-Za-z0-9]+", "_", b.doc.removesuffix(".md")) + f"_{b.line}"
            b.target = name
            os.makedirs(os.path.join(pkg, "Sources", name))
            open(os.path.join(pkg, "Sources", name, "main.swift"), "w").write(b.text)
            products = [m for m in re.findall(r"^import (AdamP\w*)$", b.text, re.M)]
            deps = ", ".join(f'.product(name: "{p}", package: "swift-adamp")' for p in products)
            targets.append(f'        .executableTarget(name: "{name}", dependencies: [{deps}]),')
        open(os.path.join(pkg, "Package.swift"), "w").write(
            "// swift-tools-version:6.0\nimport PackageDescription\n"
            f'let package = Package(name: "snippets", dependencies: [.package(name: "swift-adamp", path: "{ROOT}")], targets: [\n'
            + "\n".join(targets) + "\n])\n")
        p = subprocess.run(["swift", "build", "-q", "--package-path", pkg], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            where = {b.target: b for b in programs}
            out = re.sub(r"\S*/Sources/(snippet_\w+)/main\.swift:(\d+)",
                         lambda m: f"{where[m.group(1)].doc}:{where[m.group(1)].line + int(m.group(2))}", p.stdout)
            sys.exit(f"check-snippets: a Swift block does not compile:\n{out}")
        self.swift_bin = subprocess.run(["swift", "build", "--package-path", pkg, "--show-bin-path"],
                                        stdout=subprocess.PIPE, text=True, check=True).stdout.strip()

    def run_package(self, manifest, program):
        """A Package.swift block and its main.swift, in a folder beside a copy of the clone."""
        base = os.path.join(self.work, f"package-{manifest.line}")
        dep = re.search(r'\.package\((?:name: "[^"]+", )?path: "\.\./([^"]+)"\)', manifest.text)
        if not dep:
            fail(manifest, 'a Package.swift without .package([name: ..., ]path: "../<clone>")')
        copy_clone(os.path.join(base, dep.group(1)))
        target = re.search(r'executableTarget\(name: "([^"]+)"', manifest.text)
        if not target:
            fail(manifest, "a Package.swift without an executable target")
        app = os.path.join(base, "app")
        os.makedirs(os.path.join(app, "Sources", target.group(1)))
        open(os.path.join(app, "Package.swift"), "w").write(manifest.text)
        open(os.path.join(app, "Sources", target.group(1), "main.swift"), "w").write(program.text)
        out = run(["swift", "run", "-q", target.group(1)], app, self.env, program)
        check_output(program, out, app)

    def run_block(self, b):
        if b.lang == "text":
            return "shown"
        if b.lang == "sh" and "skip" in b.opts:
            self.lint_shell(b)
            return "not run: " + b.opts["skip"][0]
        if b.lang == "python" and not self.has_python:
            return f"SKIPPED (no Python with torch, adamp and cadamp at {self.python})"
        cwd = self.folder(b)
        out = ""
        for _ in range(int(b.opts.get("runs", ["1"])[0])):
            if b.lang == "swift":
                exe = os.path.join(self.swift_bin, b.target)
                cmd = self.mpirun + ["-np", b.opts["mpirun"][0], exe] if "mpirun" in b.opts else [exe]
                out = run(cmd, cwd, self.env, b)
            elif b.lang == "python":
                open(os.path.join(cwd, f"snippet-{b.line}.py"), "w").write(b.text)
                out = run([self.python, f"snippet-{b.line}.py"], cwd, self.env, b)
            elif b.lang == "c":
                self.install()
                open(os.path.join(cwd, f"snippet-{b.line}.c"), "w").write(b.text)
                out = run(f"cc -std=c11 -Wall -Wextra -Werror snippet-{b.line}.c "
                          f"$(pkg-config --cflags --libs cadamp) -lm -o snippet-{b.line} && ./snippet-{b.line}",
                          cwd, self.env, b)
            elif b.lang == "cmake":
                self.install()
                open(os.path.join(cwd, "CMakeLists.txt"), "w").write(b.text)
                out = run("cmake -S . -B build >/dev/null && cmake --build build >/dev/null", cwd, self.env, b)
            elif b.lang == "sh":
                self.install()
                out = run(["bash", "-euo", "pipefail", "-c", b.text], cwd, self.env, b)
        check_output(b, out, cwd)
        return "ran" + (f" on {b.opts['mpirun'][0]} ranks" if "mpirun" in b.opts else "")

    def lint_shell(self, b):
        """What can be checked of a command not run: syntax, paths, products, targets."""
        run(["bash", "-n", "-c", b.text], ROOT, self.env, b)
        manifest = open(os.path.join(ROOT, "Package.swift")).read()
        for line in b.text.split("\n"):
            code = line.split(" #")[0]
            for word in shlex.split(code, comments=True) if code.strip() else []:
                if re.match(r"^(\./)?(scripts|Examples|CKernels|Bindings|Benchmarks|Tests|Demo|Distributed|Sources|docs)/", word) \
                        and not glob.glob(os.path.join(ROOT, word.split("=")[0])):
                    fail(b, f"names {word}, which is not in the repository")
            for product in re.findall(r"swift run (?:-c \w+ )?([\w-]+)", code):
                if f'name: "{product}"' not in manifest:
                    fail(b, f"runs {product}, which Package.swift does not define")
            for target in re.findall(r"make -C CKernels (\w[\w-]*)", code):
                if subprocess.run(["make", "-n", "-C", os.path.join(ROOT, "CKernels"), target, "PREFIX=/nonexistent"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
                    fail(b, f"makes {target}, which CKernels/Makefile does not have")


def self_test():
    """Each of Tests/Snippets' documents must fail, saying what its first line says."""
    cases = sorted(glob.glob(os.path.join(ROOT, "Tests/Snippets/*.md")))
    for case in cases:
        want = re.match(r"<!-- fails: (.*) -->", open(case).readline()).group(1)
        p = subprocess.run([sys.executable, __file__, os.path.relpath(case, ROOT)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode == 0 or want not in p.stdout:
            sys.exit(f"check-snippets --self-test: {os.path.relpath(case, ROOT)} should fail with "
                     f"{want!r}; it gave (status {p.returncode}):\n{p.stdout}")
    print(f"check-snippets --self-test: {len(cases)} bad documents, each refused as expected")


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    docs = sys.argv[1:] or sorted(
        f for f in subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                  check=True).stdout.split() if ".docc/" not in f and not f.startswith("Tests/Snippets/"))
    blocks = [b for d in docs for b in parse(d)]
    work = tempfile.mkdtemp(prefix="snippets-")
    try:
        r = Runner(work)
        # A Package.swift block owns the next swift block of its document.
        owner, programs = {}, []
        for i, b in enumerate(blocks):
            if b.lang == "swift" and b.text.startswith("// swift-tools-version"):
                main_block = next((n for n in blocks[i + 1:] if n.doc == b.doc and n.lang == "swift"), None)
                if main_block is None:
                    fail(b, "a Package.swift block with no swift block after it for its main.swift")
                owner[id(main_block)] = b
        for b in blocks:
            if b.lang == "swift" and id(b) not in owner and not b.text.startswith("// swift-tools-version"):
                programs.append(b)
        if programs:
            r.build_swift(programs)
        counts = {}
        for b in blocks:
            if b.lang == "swift" and b.text.startswith("// swift-tools-version"):
                status = "Package.swift of the next block"
            elif id(b) in owner:
                r.run_package(owner[id(b)], b)
                status = "ran, built by path as its Package.swift says"
            else:
                status = r.run_block(b)
            kind = status.split(":")[0].split(" on ")[0].split(",")[0]
            counts[kind] = counts.get(kind, 0) + 1
            print(f"{b.where:28} {b.lang:7} {status}")
        print("check-snippets: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) +
              f", of {len(blocks)} blocks in {len(docs)} files")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
