"""Readers of the evaluation data files: JSON lines, one folder of them, or a folder inside a password
zip (EWoK), each record with its `file:line` for one-line error messages and provenance."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .errors import DataError, MissingData


def _decode(line: str, where: str) -> dict[str, Any]:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}: invalid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(rec, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(rec).__name__}")
    return rec


def _check_fields(rec: Mapping[str, Any], fields: Sequence[str], where: str) -> None:
    for f in fields:
        if f not in rec:
            raise DataError(f"{where}: missing field {f!r}")
        if rec[f] is None:
            raise DataError(f"{where}: field {f!r} is null")


def _iter_lines(lines: Iterator[str], display: str, fields: Sequence[str]) -> Iterator[tuple[str, dict]]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{display}:{n}"
        rec = _decode(line, where)
        _check_fields(rec, fields, where)
        yield where, rec


def read_jsonl(path: Path, display: str, fields: Sequence[str] = ()) -> Iterator[tuple[str, dict]]:
    """(where, record) per non-empty line; `where` is `display:line` for error messages and provenance."""
    if not path.is_file():
        raise MissingData(f"{display}: file not found ({path})")
    with path.open("r", encoding="utf-8") as f:
        yield from _iter_lines(f, display, fields)


def read_jsonl_folder(data_dir: Path | str, folder: str, fields: Sequence[str] = (),
                      zip_name: str | None = None, password: bytes = b"BabyLM2025"
                      ) -> Iterator[tuple[str, str, dict]]:
    """(file stem, where, record) for every `*.jsonl` of `folder`, files in name order. With `zip_name`, the
    folder is read from inside that (password) zip when it exists, else from a plain folder."""
    data_dir = Path(data_dir)
    zpath = data_dir / zip_name if zip_name else None
    if zpath is not None and zpath.is_file():
        with zipfile.ZipFile(zpath) as z:
            # the folder at the zip's root, or deeper (OSF's zip: evaluation_data/fast_eval/ewok_fast/...)
            names = sorted(n for n in z.namelist() if n.endswith(".jsonl") and f"/{n}".rsplit("/", 2)[-2] == folder)
            if not names:
                raise MissingData(f"{zip_name}:{folder}/: no .jsonl files in the zip")
            for name in names:
                display = f"{zip_name}:{name}"
                try:
                    raw = z.open(name, pwd=password).read().decode("utf-8")
                except RuntimeError as e:
                    raise DataError(f"{display}: cannot decrypt ({e})") from None
                for where, rec in _iter_lines(iter(raw.splitlines()), display, fields):
                    yield Path(name).stem, where, rec
        return
    path = data_dir / folder
    if not path.is_dir():
        extra = f" (nor {zip_name})" if zip_name else ""
        raise MissingData(f"{folder}/: folder not found under {data_dir}{extra}")
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise MissingData(f"{folder}/: no .jsonl files in {path}")
    for fp in files:
        for where, rec in read_jsonl(fp, f"{folder}/{fp.name}", fields):
            yield fp.stem, where, rec
