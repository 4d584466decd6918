"""Shared by the reader tests: the corpus builder (loaded by path: tests/ is not a
package) and small helpers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from services.importer.domain.readers import open_sheet
from services.importer.domain.sheet import RawRow

_BUILDER = Path(__file__).resolve().parents[3] / "corpus" / "build_hostile.py"


def _load_corpus_builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_hostile", _BUILDER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_hostile"] = module
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_builder()


def read_all(path: Path, **options: object) -> tuple[tuple[str, ...], list[RawRow]]:
    with open_sheet(path, **options) as reader:  # type: ignore[arg-type]
        return reader.info.header, list(reader.rows())
