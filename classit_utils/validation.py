"""Shared pieces of the frozen-dataclass configs (TrainConfig, FinetuneConfig): type checks, one-line
errors that name `<section>.<key>`, and `from_dict` that rejects unknown keys."""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Mapping, TypeVar

T = TypeVar("T", bound="DictConfig")


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def checker(section: str):
    """`check(ok, key, what, got)` raising `ValueError("<section>.<key>: <what> (got ...)")`."""
    def check(ok: bool, key: str, what: str, got: Any) -> None:
        if not ok:
            raise ValueError(f"{section}.{key}: {what} (got {got!r})")
    return check


class DictConfig:
    """Mixin for frozen dataclasses validated in `__post_init__` with `checker(SECTION)`."""
    SECTION = "config"

    @classmethod
    def from_dict(cls: type[T], raw: Mapping[str, Any], section: str | None = None) -> T:
        """From a params section; unknown keys are errors; messages name `<section>.<key>`."""
        section = section or cls.SECTION
        known = {f.name for f in fields(cls)}
        for key in raw:
            if key not in known:
                raise ValueError(f"{section}.{key}: unknown key (known: {', '.join(sorted(known))})")
        try:
            return cls(**raw)
        except ValueError as err:
            raise ValueError(str(err).replace(f"{cls.SECTION}.", f"{section}.", 1)) from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
