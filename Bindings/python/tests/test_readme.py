"""The documentation's PyTorch snippets, run as they are written there."""
import contextlib
import io
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "../../../docs")


def snippet(doc):
    """The first ```python block of docs/`doc`."""
    text = open(os.path.join(DOCS, doc)).read()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_mixed_precision_snippet():
    code = snippet("mixed-precision.md")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/mixed-precision.md", "exec"), {})
    # What its comment says it prints.
    printed = out.getvalue().strip()
    comment = re.search(r"^# (c \[.*?\])", code, re.M).group(1)
    assert printed == comment, printed
