"""The project's error classes, in one place. Each message is one line naming the file (and line) or the
params key, so a run stops before compute with something a user can act on."""
from __future__ import annotations


class ConfigError(ValueError):
    """A params problem: `<file>: <dotted.key>: <what is wrong>`."""


class DataError(ValueError):
    """A missing or malformed input file: `<file>[:<line>]: <what is wrong>`."""


class MissingData(DataError):
    """A task's folder or file is absent (a run may record the task as skipped instead of failing)."""
