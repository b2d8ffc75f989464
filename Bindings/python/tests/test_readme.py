"""The README's PyTorch snippets, run as they are written there."""
import contextlib
import io
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "../../../README.md")


def snippet(section):
    """The first ```python block after the heading `section`."""
    text = open(README).read()
    start = text.index(section)
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


def test_mixed_precision_snippet():
    code = snippet("## Mixed precision")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md (Mixed precision)", "exec"), {})
    # What its comment says it prints.
    printed = out.getvalue().strip()
    comment = re.search(r"^# (c \[.*?\])", code, re.M).group(1)
    assert printed == comment, printed
