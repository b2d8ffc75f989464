"""The checkpoint converter (cadamp.convert; scripts/convert_checkpoint.py
runs the same file from a clone) under hostile input:
every bad file is refused in one line, `cadamp.convert: FILE: problem`,
exit status 1, having written nothing (C1); the defects it converted without
a word are refused (C2); the output is written atomically (C3). Run by
scripts/ci/check-python.sh with the venv's torch and adamp."""
import copy
import errno
import hashlib
import json
import os
import random
import struct
import sys

import adamp
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import convert_checkpoint as C  # noqa: E402   (the shim: Bindings/python/cadamp/convert.py)
import subprocess  # noqa: E402


def test_the_module_and_the_script_are_one_converter(tmp_path):
    """`python -m cadamp.convert` (installed) and scripts/convert_checkpoint.py
    (a clone) run the same file, and both refuse a bad file in its one line."""
    import cadamp.convert
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    for cmd in ([sys.executable, "-m", "cadamp.convert"], [sys.executable, os.path.join(HERE, "..", "..", "scripts", "convert_checkpoint.py")]):
        p = subprocess.run(cmd + ["to-torch", str(bad), str(tmp_path / "out.pt")], capture_output=True, text=True)
        assert p.returncode == 1 and p.stderr.startswith(f"cadamp.convert: {bad}: "), (cmd, p.stderr)
        assert not (tmp_path / "out.pt").exists()
    with open(cadamp.convert.__file__, "rb") as installed, open(os.path.join(HERE, "..", "..", "Bindings", "python", "cadamp", "convert.py"), "rb") as source:
        assert installed.read() == source.read()


def trained(kind):
    """A state_dict of `kind` after two steps over a [3, 4] weight and a [4] bias."""
    torch.manual_seed(0)
    ps = [torch.nn.Parameter(torch.randn(3, 4)), torch.nn.Parameter(torch.randn(4))]
    make = {"adamp": lambda: adamp.AdamP(ps), "sgdp": lambda: adamp.SGDP(ps, lr=0.1, momentum=0.9),
            "adam": lambda: torch.optim.Adam(ps), "adamw": lambda: torch.optim.AdamW(ps),
            "sgd": lambda: torch.optim.SGD(ps, lr=0.1, momentum=0.9)}[kind]
    opt = make()
    for _ in range(2):
        for p in ps:
            p.grad = torch.randn_like(p)
        opt.step()
    return opt.state_dict()


def good_checkpoint(tmp_path, kind="adamp"):
    src, dst = tmp_path / f"{kind}.pt", tmp_path / f"{kind}.safetensors"
    torch.save(trained(kind), src)
    C.main(["from-torch", str(src), str(dst)])
    return dst.read_bytes()


def split(data):
    """(header dict, data section) of safetensors bytes."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header, body, text=None):
    h = (text if text is not None else json.dumps(header, separators=(",", ":"))).encode()
    return struct.pack("<Q", len(h)) + h + body


def rewrite(data, edit):
    """Safetensors bytes with the header (and its digest, when the edit
    leaves one) changed by edit(header, meta)."""
    header, body = split(data)
    header = copy.deepcopy(header)
    meta = header["__metadata__"]
    meta.pop(C.DIGEST_KEY, None)   # the edited file has none: its defect, not the digest, is refused
    edit(header, meta)
    return join(header, body)


def run(args):
    """main(args): None if it converted, else its one-line message."""
    try:
        C.main(args)
    except SystemExit as e:
        assert isinstance(e.code, str), f"exit status {e.code!r} without a message"
        return e.code
    return None


def expect_refused(tmp_path, data, mentions=None, command="to-torch", suffix=".safetensors"):
    src = tmp_path / f"in{suffix}"
    dst = tmp_path / "out.bin"
    if isinstance(data, (bytes, bytearray)):
        src.write_bytes(data)
    else:
        torch.save(data, src)
    message = run([command, str(src), str(dst)])
    assert message is not None, f"converted: {mentions}"
    assert "\n" not in message and message.startswith(f"{C.PROG}: {src}: "), message
    if mentions is not None:
        assert mentions in message, message
    assert not dst.exists(), "a refused conversion wrote its output"
    assert [f for f in os.listdir(tmp_path) if f.startswith(".")] == [], "a temporary file was left"
    return message


def step_tensor(data, index, fmt, dtype, value):
    header, body = split(data)
    key = f"state.{index}.step"
    b, e = header[key]["data_offsets"]
    raw = struct.pack(fmt, value)
    body = body[:b] + raw + body[e:]
    delta = len(raw) - (e - b)
    for name, entry in header.items():
        if name != "__metadata__" and entry["data_offsets"][0] > b:
            entry["data_offsets"] = [x + delta for x in entry["data_offsets"]]
    header[key].update(dtype=dtype, data_offsets=[b, b + len(raw)])
    header["__metadata__"].pop(C.DIGEST_KEY)
    return join(header, body)


def test_c2_what_was_converted_without_a_word(tmp_path):
    """C2: each defect the converter passed (missing bytes became zeros,
    offsets unchecked, trailing bytes, duplicate keys, step counts -1, 2.5
    read as 2, 2^63) is refused as the Swift reader refuses it."""
    good = good_checkpoint(tmp_path)
    header, body = split(good)
    names = sorted(k for k in header if k != "__metadata__")
    first, second = names[0], names[1]
    b0, e0 = header[first]["data_offsets"]
    cases = [
        (good[:-4], "lies outside the file"),
        (rewrite(good, lambda h, m: h[first].update(data_offsets=[b0, e0 + 10**6])), "lies outside the file"),
        (rewrite(good, lambda h, m: h[second].update(data_offsets=[x - 4 for x in h[second]["data_offsets"]])),
         "overlaps another"),
        (rewrite(good, lambda h, m: h[first].update(data_offsets=[e0, b0])), "no valid data_offsets"),
        (good + b"\0\0\0\0", "the tensors end at byte"),
        (join(None, body, split(good)[0] and json.dumps(header, separators=(",", ":")).replace(
            '{"__metadata__"', '{"x":1,"x":2,"__metadata__"', 1)), "duplicate key 'x'"),
        (step_tensor(good, 0, "<q", "I64", -1), "state.0.step is -1: a step count is a whole number in [0, 2^63 - 1)"),
        (step_tensor(good, 0, "<d", "F64", 2.5), "state.0.step is 2.5: a step count is a whole number"),
        (step_tensor(good, 1, "<d", "F64", 2.0**63), "state.1.step is 9.223372036854776e+18: a step count"),
        (step_tensor(good, 1, "<q", "I64", 2**63 - 1), "a step count is a whole number in [0, 2^63 - 1)"),
    ]
    for data, mentions in cases:
        expect_refused(tmp_path, data, mentions)
    # And from PyTorch: the same counts in a state_dict.
    for step in (-1, 2.5, 2**63, float("nan"), torch.tensor([1.0, 2.0]), True, "3"):
        sd = trained("adamp")
        sd["state"][0]["step"] = step
        expect_refused(tmp_path, sd, "state 0 step", command="from-torch", suffix=".pt")


def test_the_data_digest(tmp_path):
    """from-torch writes the SHA-256 of the data, as the Swift writer does;
    to-torch checks it: a file changed on disk is refused."""
    good = good_checkpoint(tmp_path)
    header, body = split(good)
    assert header["__metadata__"][C.DIGEST_KEY] == hashlib.sha256(body).hexdigest()
    flipped = bytearray(good)
    flipped[-5] ^= 1
    expect_refused(tmp_path, bytes(flipped), "corrupt: the SHA-256 of its data is ")
    (tmp_path / "ok.safetensors").write_bytes(good)
    assert run(["to-torch", str(tmp_path / "ok.safetensors"), str(tmp_path / "ok.pt")]) is None


def hostile_files(good, rng):
    """Over 150 files that are not good checkpoints: cut short, bytes
    flipped in the header, edited headers and metadata, step counts."""
    header, body = split(good)
    (n,) = struct.unpack("<Q", good[:8])
    names = sorted(k for k in header if k != "__metadata__")
    out = [b"", b"\x00" * 7, b"hello, not a checkpoint\n", bytes(rng.randrange(256) for _ in range(300)),
           b"PK\x03\x04" + bytes(60), struct.pack("<Q", 2**40) + b"{}", struct.pack("<Q", 0),
           struct.pack("<Q", 2) + b"[]", struct.pack("<Q", 4) + b"\xff\xfe{}"]
    out += [good[:k] for k in sorted(set(rng.randrange(1, len(good)) for _ in range(40)))]
    for _ in range(40):
        data = bytearray(good)
        data[8 + rng.randrange(n)] ^= 1 << rng.randrange(8)
        out.append(bytes(data))
    edits = [
        lambda h, m: h.update(x={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}),
        lambda h, m: h[names[0]].update(dtype="Q7"),
        lambda h, m: h[names[0]].update(dtype=["F32"]),
        lambda h, m: h[names[0]].update(dtype="F16"),
        lambda h, m: h[names[0]].update(shape=[-3, 4]),
        lambda h, m: h[names[0]].update(shape=[3.0, 4]),
        lambda h, m: h[names[0]].update(shape="3x4"),
        lambda h, m: h[names[0]].update(shape=[True, 4]),
        lambda h, m: h[names[0]].update(shape=[2**70, 2**70]),
        lambda h, m: h[names[0]].update(data_offsets=[0]),
        lambda h, m: h[names[0]].update(data_offsets=[-8, 40]),
        lambda h, m: h[names[0]].update(data_offsets=["0", "40"]),
        lambda h, m: h[names[0]].pop("dtype"),
        lambda h, m: h.update({names[0]: 7}),
        lambda h, m: h.update(__metadata__=[1]),
        lambda h, m: m.update(format="something else"),
        lambda h, m: m.pop("format"),
        lambda h, m: m.update(format_version="0"),
        lambda h, m: m.update(format_version="x"),
        lambda h, m: m.update(format_version="99"),
        lambda h, m: m.update(optimizer="lion"),
        lambda h, m: m.update(dtype="F16"),
        lambda h, m: m.update(dtype="F64"),
        lambda h, m: m.update(param_groups="[{"),
        lambda h, m: m.update(param_groups="{}"),
        lambda h, m: m.update(param_groups="[]"),
        lambda h, m: m.update(param_groups='[{"lr": 0.1}]'),
        lambda h, m: m.update(param_groups='[{"lr": 0.1, "params": [0, 0]}]'),
        lambda h, m: m.update(param_groups='[{"lr": 0.1, "params": [0, 5]}]'),
        lambda h, m: m.update(param_groups='[{"lr": NaN, "params": [0, 1]}]'),
        lambda h, m: m.update(param_groups='[{"lr": "fast", "params": [0, 1]}]'),
        lambda h, m: m.update(parameters="[1, 2]"),
        lambda h, m: m.update(parameters='{"a": 1}'),
        lambda h, m: m.pop("parameters"),
        lambda h, m: m.update(parameters='[{"name": null, "shape": [9, 9]}, {"name": null, "shape": [4]}]'),
        lambda h, m: m.update(extra=5),
        lambda h, m: h.update({"state.7.exp_avg": h.pop(names[1])}),
        lambda h, m: h.update({"state.0.exp.avg": h.pop(names[1])}),
        lambda h, m: h.update({"garbage": h.pop(names[1])}),
        lambda h, m: h.update({"state.1.junk": h.pop("state.1.step")}),
    ]
    out += [rewrite(good, e) for e in edits]
    text = json.dumps(header, separators=(",", ":"))
    for _ in range(40):   # the header's JSON cut or spliced
        k = rng.randrange(1, len(text))
        out.append(join(None, body, text[:k] + rng.choice(["", "}", "]", ",", '"', "\\", "\x01", "NaN"]) + text[k + 1:]))
    return out


def test_c1_every_hostile_file_fails_in_one_line(tmp_path):
    """C1: about 40 of 150 hostile inputs ended in a Python traceback; each
    is now one line naming the file and the problem, exit status 1, and
    nothing is written."""
    rng = random.Random(28)
    good = good_checkpoint(tmp_path)
    files = hostile_files(good, rng)
    assert len(files) > 150
    refused = 0
    for data in files:
        src, dst = tmp_path / "in.safetensors", tmp_path / "out.pt"
        src.write_bytes(data)
        message = run(["to-torch", str(src), str(dst)])
        if message is None:   # a flip that left a valid file (e.g. inside a number): it converted
            dst.unlink()
            continue
        refused += 1
        assert "\n" not in message and message.startswith(f"{C.PROG}: {src}: "), message
        assert not dst.exists()
    assert refused > 140
    # Files that are not files, or not there.
    for path, mentions in ((tmp_path, "Is a directory"), (tmp_path / "none.safetensors", "No such file")):
        message = run(["to-torch", str(path), str(tmp_path / "o.pt")])
        assert message.startswith(f"{C.PROG}: {path}: ") and mentions in message, message


def hostile_state_dicts():
    """State dicts no optimizer wrote, each with what from-torch must say."""
    def edit(f, kind="adamp"):
        sd = trained(kind)
        f(sd)
        return sd
    return [
        ([1, 2, 3], "not an optimizer state_dict"),
        ({"state": {}}, "not an optimizer state_dict"),
        ({"state": [], "param_groups": []}, "not an optimizer state_dict"),
        (edit(lambda sd: sd.update(param_groups=[])), "param_groups is not a list of groups"),
        (edit(lambda sd: sd["param_groups"][0].update(params=[0, 0])), "params are not each of"),
        (edit(lambda sd: sd["param_groups"][0].update(params=[0, 7])), "params are not each of"),
        (edit(lambda sd: sd["param_groups"][0].update(params=["a", "b"])), "params are not each of"),
        (edit(lambda sd: sd["state"].update({9: sd["state"][0]})), "state 9 is not the index"),
        (edit(lambda sd: sd["state"].update({"0": sd["state"].pop(0)})), "state '0' is not the index"),
        (edit(lambda sd: sd["state"].update({0: 5})), "state 0 is not a dict"),
        (edit(lambda sd: sd["state"][0].update(exp_avg=sd["state"][0]["exp_avg"].long())), "torch.int64"),
        (edit(lambda sd: sd["state"][0].update(exp_avg=sd["state"][0]["exp_avg"].to_sparse())), "not a dense tensor"),
        (edit(lambda sd: sd["state"][0].update(exp_avg=torch.zeros(5))), "but its other state has [5]"),
        (edit(lambda sd: sd["state"][1].update(exp_avg=sd["state"][1]["exp_avg"].double(),
                                               exp_avg_sq=sd["state"][1]["exp_avg_sq"].double())), "state in more than one dtype (F32, F64)"),
        (edit(lambda sd: sd["param_groups"][0].update(lr=float("nan"))), "param_groups[0].lr is nan"),
        (edit(lambda sd: sd["param_groups"][0].update(lr={"a": 1})), "param_groups[0].lr is a dict"),
        (edit(lambda sd: sd["param_groups"][0].update(betas=torch.zeros(3))), "tensor of 3 elements"),
        (edit(lambda sd: sd["param_groups"][0].update(param_names=["w"])), "param_names is not a name for each"),
        (edit(lambda sd: sd["param_groups"][0].pop("decoupled_weight_decay"), "adam"), "Adam or AdamW?"),
    ]


def test_c1_hostile_state_dicts(tmp_path):
    """from-torch over state dicts no optimizer wrote, and files torch.save
    did not write: one line each, nothing written."""
    for sd, mentions in hostile_state_dicts():
        expect_refused(tmp_path, sd, mentions, command="from-torch", suffix=".pt")
    for data in (b"", b"not a pickle", b"PK\x03\x04" + bytes(100), good_checkpoint(tmp_path)):
        expect_refused(tmp_path, data, "not a file torch.save wrote", command="from-torch", suffix=".pt")


def test_c3_an_existing_checkpoint_survives_a_failed_write(tmp_path, monkeypatch):
    """C3: from-torch wrote the destination in place, so that a full disk
    truncated the checkpoint already there. Now a failure at any point of
    the write (disk full, fsync, rename) leaves it whole, and no temporary
    file behind; a write that works replaces it whole."""
    src, dst = tmp_path / "a.pt", tmp_path / "ckpt.safetensors"
    torch.save(trained("adam"), src)
    old = b"the previous checkpoint"
    real_fdopen, real_fsync, real_replace = os.fdopen, os.fsync, os.replace

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

        def write(self, b):
            self.f.write(b[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

        def __getattr__(self, name):
            return getattr(self.f, name)

    def fail_fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    def fail_replace(a, b):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), b)

    for name, patch, mentions in (("disk full", ("fdopen", lambda fd, mode: Full(real_fdopen(fd, mode))), "No space left"),
                                  ("fsync", ("fsync", fail_fsync), "Input/output error"),
                                  ("rename", ("replace", fail_replace), "Invalid cross-device link")):
        dst.write_bytes(old)
        monkeypatch.setattr(os, patch[0], patch[1])
        message = run(["from-torch", str(src), str(dst)])
        monkeypatch.setattr(os, "fdopen", real_fdopen)
        monkeypatch.setattr(os, "fsync", real_fsync)
        monkeypatch.setattr(os, "replace", real_replace)
        assert message is not None and mentions in message and "\n" not in message, (name, message)
        assert dst.read_bytes() == old, name
        assert sorted(os.listdir(tmp_path)) == ["a.pt", "ckpt.safetensors"], (name, os.listdir(tmp_path))
    assert run(["from-torch", str(src), str(dst)]) is None
    assert C.read_safetensors(dst)[1]["optimizer"] == "adam"


def test_master_buffers_are_the_c_librarys():
    """The converter's table of master_weights modes is the C library's
    (ADAMP_MASTERS, read through cadamp), and cadamp's group values."""
    cadamp = pytest.importorskip("cadamp")
    from cadamp import _c, _engine
    for mode, value in _c.MASTERS.items():
        buffer = _c.MASTER_BUFFERS.get(value)
        want = None if buffer is None else (buffer[0], {torch.float32: "F32", torch.uint16: "U16"}[buffer[1]])
        assert C.MASTERS[mode] == want, mode
    assert _engine.MASTER_WEIGHTS == {v: k for k, v in C.GROUP_MASTER.items()}
    del cadamp


@pytest.mark.parametrize("dtype,mode", [(torch.bfloat16, False), (torch.float16, False), (torch.bfloat16, True),
                                        (torch.float16, True), (torch.bfloat16, "split")], ids=str)
def test_mixed_precision_round_trip_resumes_bitwise(tmp_path, dtype, mode):
    """cadamp's state_dict in each mode, to our format and back, resumes
    exactly where the uninterrupted run goes."""
    cadamp = pytest.importorskip("cadamp")

    def run(opt, ps, steps):
        for k in steps:
            g = torch.Generator().manual_seed(k)
            for p in ps:
                p.grad = torch.randn(p.shape, generator=g).to(dtype)
            opt.step()
    torch.manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(s).to(dtype)) for s in ((6, 5), (5,))]
    oa = cadamp.AdamP(a, lr=1e-2, weight_decay=1e-2, master_weights=mode)
    run(oa, a, range(3))
    torch.save(oa.state_dict(), tmp_path / "a.pt")
    saved = [p.detach().clone() for p in a]
    run(oa, a, range(3, 6))
    extra = ["--dtype", {torch.bfloat16: "BF16", torch.float16: "F16"}[dtype]] if mode is True else []
    C.main(["from-torch", str(tmp_path / "a.pt"), str(tmp_path / "a.safetensors")] + extra)
    tensors, meta = C.read_safetensors(tmp_path / "a.safetensors")
    assert meta["dtype"] == {torch.bfloat16: "BF16", torch.float16: "F16"}[dtype]
    assert meta.get("master_weights", "off") == {False: "off", True: "float32", "split": "split"}[mode]
    C.main(["to-torch", str(tmp_path / "a.safetensors"), str(tmp_path / "b.pt")])
    b = [torch.nn.Parameter(p) for p in saved]
    ob = cadamp.AdamP(b, lr=1e-2, weight_decay=1e-2, master_weights=mode)
    ob.load_state_dict(torch.load(tmp_path / "b.pt", weights_only=True))
    run(ob, b, range(3, 6))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    for x, y in zip(a, b):
        assert all(torch.equal(oa.state[x][k], ob.state[y][k]) for k in oa.state[x] if k != "step")


def test_float32_masters_need_the_parameters_dtype(tmp_path):
    cadamp = pytest.importorskip("cadamp")
    p = torch.nn.Parameter(torch.randn(3, 2).to(torch.bfloat16))
    opt = cadamp.Adam([p], master_weights=True)
    p.grad = torch.ones_like(p)
    opt.step()
    torch.save(opt.state_dict(), tmp_path / "a.pt")
    with pytest.raises(SystemExit, match="pass --dtype BF16 or F16"):
        C.main(["from-torch", str(tmp_path / "a.pt"), str(tmp_path / "a.safetensors")])
    assert not (tmp_path / "a.safetensors").exists()


def test_mixed_precision_files_that_do_not_fit_are_refused(tmp_path):
    cadamp = pytest.importorskip("cadamp")
    ps = [torch.nn.Parameter(torch.randn(3, 2).to(torch.bfloat16)), torch.nn.Parameter(torch.randn(2).to(torch.bfloat16))]
    opt = cadamp.AdamW(ps, master_weights="split")
    for p in ps:
        p.grad = torch.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    torch.save(sd, tmp_path / "a.pt")
    C.main(["from-torch", str(tmp_path / "a.pt"), str(tmp_path / "a.safetensors")])
    good = (tmp_path / "a.safetensors").read_bytes()
    for edit, mentions in [(lambda h, m: m.update(master_weights="yes"), "master_weights 'yes'"),
                           (lambda h, m: m.update(dtype="F32"), "master_weights 'split' is not one F32 parameters keep"),
                           (lambda h, m: m.pop("master_weights"), "is F32; the checkpoint's is BF16")]:
        expect_refused(tmp_path, rewrite(good, edit), mentions)
    for change, mentions in [(lambda d: d["param_groups"][0].update(master_weights="yes"), "not False, True or 'split'"),
                             (lambda d: d["state"][0].update(master_trail=d["state"][0]["master_trail"].float()),
                              "a split master's master_trail is U16"),
                             (lambda d: d["state"][0].update(exp_avg=d["state"][0]["exp_avg"].bfloat16()),
                              "state in more than one dtype")]:
        bad = copy.deepcopy(sd)
        change(bad)
        expect_refused(tmp_path, bad, mentions, command="from-torch", suffix=".pt")
    two = copy.deepcopy(sd)
    two["param_groups"] = [dict(two["param_groups"][0], params=[0]), dict(two["param_groups"][0], params=[1],
                                                                          master_weights=False)]
    expect_refused(tmp_path, two, "the groups keep different master weights", command="from-torch", suffix=".pt")
