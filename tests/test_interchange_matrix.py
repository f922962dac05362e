"""The interchange matrix (bench/interchange_matrix.py) on a few of its rows: every cell passes
xmllint, OTIO's official reader and melt frame by frame, or names a known limit of a tool we
did not write."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "interchange_matrix.py"

pytestmark = pytest.mark.skipif(
    shutil.which("melt") is None or shutil.which("xmllint") is None
    or importlib.util.find_spec("otio_mlt_adapter") is None,
    reason="needs melt, xmllint and otio-mlt-adapter")


def _matrix():
    if "interchange_matrix" in sys.modules:
        return sys.modules["interchange_matrix"]
    spec = importlib.util.spec_from_file_location("interchange_matrix", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["interchange_matrix"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_matrix_rows_pass_or_name_a_known_limit(tmp_path):
    matrix = _matrix()
    rows = ["29.97 DF", "mixed", "VFR", "hostile names"]
    results = matrix.run(rows, list(matrix.FORMATS), folder=tmp_path)
    assert len(results) == len(rows) * len(matrix.FORMATS)
    assert matrix.failures(results) == []
    for (name, fmt), cell in results.items():
        assert cell["checked"] == sum(matrix.CASES[name].lengths), (name, fmt)  # melt checked every frame
        if fmt != "fcpxml":
            assert cell["official"].startswith("ok"), (name, fmt, cell)
        else:  # fcpx_xml mis-times NTSC (known); at 25 it reads our file
            assert cell["official"].startswith("ok") or cell["official"].startswith("n/a (known"), cell
    assert results[("hostile names", "fcpxml")]["official"].startswith("ok")  # a 25 fps row
