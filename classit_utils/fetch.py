"""`classit-data`: fetch, verify and install the data a profile needs, in the folder layout the loaders read.

    classit-data fetch --profile paper [--dest DIR] [--from DIR_OR_ZIP] [--only NAME ...]
    classit-data check --profile small [--dest DIR]
    python -m classit_utils.fetch ...          (the same, without the console script)

A fresh machine gets its data in one command, and a re-run changes nothing: every installed file is checked
against `data_manifest.json` (kept beside this module: relative path, sha256, size), a file appears only
after its check passes (written to a temp file or a `.part`, then renamed), nothing already verified is
removed, and a second `fetch` with everything in place makes no network call.

Sources (the manifest's `sources` cite each one; revisions are pinned there and `revisions=` overrides them):
- BabyLM 2025 strict corpus: `train_100M.zip` (100M words) and `train_10M.zip` (strict-small) of OSF project
  ryjfm, https://osf.io/ryjfm/ (files 6819fdbfbecda878d4c61566 and 6819fd8d91a6c4b6d4159848).
- BabyLM 2025 evaluation data: the `evaluation_data/` folder (fast_eval + full_eval) of the same OSF project,
  which babylm/evaluation-pipeline-2025@bf55c11 (README.md, "## Data") tells users to download: "Download the
  `evaluation_data` folder in [this OSF directory](https://osf.io/ryjfm/)"; fetched as OSF's folder zip
  (folder 6819f54f5dc6fc2bff0a7bba). EWoK fast stays in its password zip ("the password to unzip the file
  is: BabyLM2025"), installed as `ewok.zip`.
- The released CLASS-IT data: HF dataset `colinglab/CLASS_IT`, configs `switchboard` and `simple_wiki`
  (Capone, Bondielli & Lenci 2025, https://aclanthology.org/2025.babylm-main.30/), as `class_it/<config>/`.
- SwDA (the conversational IT source): GitHub NathanDuran/Switchboard-Corpus `swda_data/` @2aec5da
  (shared/data/SOURCES-it.md).
- The small profile's corpus: moritzlad/BabyLM-Tiny @9511b3e `datasets/BabyLM_dataset/train_600k/`
  (shared/data/README.md, source A; samples of the 100M corpus, not original BabyLM files).

Hashes: sha256/size computed from /work/shared/data's copies (checked against a pristine-OSF sha256 manifest
and the pinned git commits), or taken from that manifest for files not there; `hash_from` in the manifest says
which, per file. Files with no known sha256 (the BabyLM corpus zips' members, CLASS_IT's parquet files, the
hidden WUG past-tense task) are checked by size (and rows) or not at all, and `check` says so loudly.
Partial downloads and the install record live in `<dest>/.classit-data/` (safe to delete).

Which entries a profile needs is read from its params (`corpus.path`/`extra_paths`, `instruct.conv.path` or
`instruct.class_it`, the evaluation folders of `evaluation.rules`/`variant`, the GLUE files of
`finetune.tasks`), plus the manifest's `profile_extras`; the demo profile needs nothing.
"""
from __future__ import annotations

import argparse
import fnmatch
import functools
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ConfigError, DataError
from .records import atomic_write_json, read_json_or_empty

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).with_name("data_manifest.json")
STATE_DIR = ".classit-data"          # under the destination: state.json and downloads/ (partial files)
DEFAULT_TIMEOUT = (10.0, 30.0)       # seconds: connect, read (no data for this long ends a transfer)
CHUNK = 1 << 20
USER_AGENT = "classit-data/0.1 (python-urllib)"
PROG = "classit-data"

VERIFIED, SIZE_ONLY, PRESENT, MISSING, MISMATCH = "verified", "size-only", "present", "missing", "mismatch"
KINDS = ("archive", "files", "hub")


class FetchError(DataError):
    """A source could not be fetched or a file failed its check: one line naming the URL, hub id or file."""


class Unreachable(FetchError):
    """No answer: the name lookup, the connection or the first byte failed or timed out."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (`code`)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------------------------------- the manifest
@dataclass(frozen=True)
class Entry:
    """One installed file, or a folder (path ends with `/`) whose file list is not known in advance."""
    path: str                              # relative to the destination, in the loaders' layout
    source: str
    sha256: str | None = None
    size: int | None = None                # a folder: total bytes of its files
    members: tuple[str, ...] = ()          # where it lies inside its source (archive member, URL path, hub path)
    url: str | None = None                 # a direct copy (a mirror of an archive member)
    glob: str = "*"                        # a folder: which of its files
    rows: int | None = None                # a folder of parquet files: total rows
    accept: tuple[tuple[str, int | None, str], ...] = ()   # other (sha256, size, what) that also pass
    hash_from: str | None = None           # key of the manifest's `hash_from`: where the hash comes from
    note: str = ""

    @property
    def is_dir(self) -> bool:
        return self.path.endswith("/")

    @property
    def level(self) -> str:
        """How far a present copy can be checked: verified (sha256), size-only, or present (not at all)."""
        if self.sha256:
            return VERIFIED
        return SIZE_ONLY if self.size is not None or self.rows is not None else PRESENT


@dataclass(frozen=True)
class Source:
    name: str
    kind: str                              # archive (one zip), files (one URL each), hub (HF dataset)
    cite: str
    url: str | None = None                 # may hold {revision} (and {member} for kind files)
    url_versioned: str | None = None       # the URL with {revision} for sources pinned by an override only
    revision: str | None = None
    filename: str | None = None            # an archive's name in downloads/ and in a --from folder
    aliases: tuple[str, ...] = ()
    repo_id: str | None = None
    layout: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # install prefix -> member prefixes
    note: str = ""


@dataclass(frozen=True)
class Manifest:
    sources: Mapping[str, Source]
    entries: tuple[Entry, ...]
    hash_from: Mapping[str, str]
    profile_extras: Mapping[str, Mapping[str, Any]]
    where: str = "data_manifest.json"

    def under(self, path: str) -> list[Entry]:
        """The entry at `path`, or every entry inside the folder `path/`."""
        if path.endswith("/"):
            return [e for e in self.entries if e.path.startswith(path)]
        return [e for e in self.entries if e.path == path]

    def of_source(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.source == name]


def _members(path: str, layout: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Where an installed path lies in its source: the longest layout prefix it falls under, mapped."""
    keys = [k for k in layout if path == k or (k.endswith("/") and path.startswith(k))]
    if not keys:
        return ()
    key = max(keys, key=len)
    return tuple(m + path[len(key):] for m in layout[key])


def _bad_path(p: str) -> bool:
    parts = PurePosixPath(p).parts
    return not p or p.startswith("/") or "\\" in p or ".." in parts or (parts and parts[0] == STATE_DIR)


def load_manifest(path: str | Path | None = None) -> Manifest:
    """The manifest (default: the one kept beside this module), checked: sources known, paths relative and
    unique, hashes 64 hex digits or null, every archive/URL entry mapped into its source."""
    path = Path(path) if path else MANIFEST
    where = path.name if path == MANIFEST else str(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise FetchError(f"{where}: cannot read the manifest ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        raise FetchError(f"{where}:{e.lineno}: invalid JSON ({e.msg})") from None
    sources = {}
    for name, s in raw.get("sources", {}).items():
        if s.get("kind") not in KINDS:
            raise FetchError(f"{where}: sources.{name}.kind: must be one of {', '.join(KINDS)}")
        if not s.get("cite"):
            raise FetchError(f"{where}: sources.{name}.cite: every source names where it comes from")
        if s["kind"] == "hub" and not s.get("repo_id"):
            raise FetchError(f"{where}: sources.{name}.repo_id: required for a hub source")
        if s["kind"] != "hub" and not s.get("url"):
            raise FetchError(f"{where}: sources.{name}.url: required for an {s['kind']} source")
        if s["kind"] == "archive" and not s.get("filename"):
            raise FetchError(f"{where}: sources.{name}.filename: required for an archive source")
        layout = {k: tuple(v) for k, v in s.get("layout", {}).items()}
        sources[name] = Source(name=name, kind=s["kind"], cite=s["cite"], url=s.get("url"),
                               url_versioned=s.get("url_versioned"), revision=s.get("revision"),
                               filename=s.get("filename"), aliases=tuple(s.get("aliases", ())),
                               repo_id=s.get("repo_id"), layout=layout, note=s.get("note", ""))
    entries, seen = [], set()
    for i, f in enumerate(raw.get("files", [])):
        p, src = f.get("path", ""), f.get("source")
        at = f"{where}: files[{i}] {p!r}"
        if src not in sources:
            raise FetchError(f"{at}: unknown source {src!r}")
        if _bad_path(p):
            raise FetchError(f"{at}: path must be relative, inside the destination")
        if p in seen:
            raise FetchError(f"{at}: listed twice")
        seen.add(p)
        sha = f.get("sha256")
        if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
            raise FetchError(f"{at}: sha256 must be 64 lowercase hex digits or null")
        members = _members(p, sources[src].layout)
        if not members:
            raise FetchError(f"{at}: no layout prefix of source {src!r} covers it")
        accept = tuple((a["sha256"], a.get("size"), a.get("what", "another accepted copy")) for a in f.get("accept", ()))
        entries.append(Entry(path=p, source=src, sha256=sha, size=f.get("size"), members=members, url=f.get("url"),
                             glob=f.get("glob", "*"), rows=f.get("rows"), accept=accept,
                             hash_from=f.get("hash_from"), note=f.get("note", "")))
    return Manifest(sources=sources, entries=tuple(entries), hash_from=raw.get("hash_from", {}),
                    profile_extras=raw.get("profile_extras", {}), where=where)


# ------------------------------------------------------------------------------------------- what a profile needs
@dataclass
class Plan:
    label: str
    entries: list[Entry]
    notes: list[str] = field(default_factory=list)     # needs no source covers, things fetched elsewhere
    revisions: dict[str, str] = field(default_factory=dict)   # the params' pins (instruct.class_it_revision)


def _rel(p: str) -> str | None:
    """A params path as a destination-relative POSIX path, or None when it is absolute (outside the root)."""
    p = os.path.expandvars(str(p))
    return None if Path(p).is_absolute() else PurePosixPath(p).as_posix().strip("/")


def _relocate(m: Manifest, source: str, root: str) -> list[Entry]:
    """A source's entries moved under another root folder (CLASS_IT where `instruct.class_it` names it)."""
    keys = list(m.sources[source].layout)
    old = keys[0] if len(keys) == 1 else ""
    new = root.rstrip("/") + "/"
    return [replace(e, path=new + e.path[len(old):]) for e in m.of_source(source)]


def profile_plan(cfg, m: Manifest) -> Plan:
    """The entries a study config reads, derived from its params (see the module docstring)."""
    plan = Plan(cfg.profile, [])
    if cfg.demo is not None:
        plan.notes.append(f"{cfg.profile}: the profile generates its own data (demo section): nothing to fetch")
        return plan
    picked: dict[str, Entry] = {}

    def take(entries: Iterable[Entry]) -> None:
        for e in entries:
            picked.setdefault(e.path, e)

    def want(path: str | None, why: str) -> list[Entry]:
        if path is None:
            plan.notes.append(f"{why}: an absolute path, outside the destination: not fetched")
            return []
        ents = m.under(path)
        if not ents:
            plan.notes.append(f"{path} ({why}): no source in the manifest; put it in by hand")
        take(ents)
        return ents

    c = cfg.corpus
    if c.loader in ("babylm", "text"):
        suffix, seen = (".train" if c.loader == "babylm" else ".txt"), set()
        for key, p in [("corpus.path", c.path)] + [("corpus.extra_paths", q) for q in c.extra_paths]:
            rel = _rel(p)
            if rel is None:
                want(None, key)
                continue
            folder = rel + "/"
            files = [e for e in m.under(folder) if e.path.endswith(suffix) and "/" not in e.path[len(folder):]]
            if not files:
                plan.notes.append(f"{folder} ({key}): no source in the manifest; put it in by hand")
            # the loader refuses a source found in two corpus folders: a later folder adds only new stems
            keep = [e for e in files if PurePosixPath(e.path).stem not in seen
                    and (not c.sources or PurePosixPath(e.path).stem in c.sources)]
            take(keep)
            seen |= {PurePosixPath(e.path).stem for e in keep}
    else:
        plan.notes.append(f"corpus.hf_id {c.hf_id}: read through `datasets` at run time: nothing to fetch")
    ic = cfg.instruct
    if ic.class_it:
        root = _rel(ic.class_it)
        if root is None:
            want(None, "instruct.class_it")
        else:
            take(_relocate(m, "class_it", root))
        if ic.class_it_revision:
            plan.revisions["class_it"] = ic.class_it_revision
    else:
        conv = _rel(ic.conv.path)
        want(None if conv is None else conv + ("/" if ic.conv.loader == "swda" else ""), "instruct.conv.path")
    for name in m.profile_extras.get(cfg.profile, {}).get("sources", ()):
        if not (name == "class_it" and ic.class_it):
            take(m.of_source(name))
    # the task specs own their folders (imported here: they import torch)
    from .tasks import RULE_TASKS, get_task
    e = cfg.evaluation
    for name in RULE_TASKS[e.rules]:
        spec = get_task(name).spec
        want(spec.zip_name or spec.folder(e.variant) + "/", f"evaluation: {name}, {e.variant}")
    from .glue import FOLDER, SPLITS, get_glue_task
    for task in cfg.finetune.tasks:
        for split in SPLITS:
            want(f"{FOLDER}/{get_glue_task(task).name}.{split}.jsonl", f"finetune: {task}")
    plan.entries = list(picked.values())
    return plan


def _load_profile(profile: str, dest: Path | None):
    """A StudyConfig from a profile name (params/<name>.yaml) or a params file, never checking data paths."""
    from .config import load_config
    path = profile if profile.endswith((".yaml", ".yml")) or "/" in profile else f"params/{profile}.yaml"
    # the destination stands in for data_root, so ${CLASSIT_DATA} need not be set
    return load_config(path, check_paths=False, overrides={"data_root": str(dest) if dest is not None else "."})


def make_plan(profile_or_sources, m: Manifest, dest: Path | None = None, only: Sequence[str] = ()) -> Plan:
    """What to install: a profile's needs (a name, a params file or a StudyConfig), the entries of some
    sources (a list of names), or everything (None); `only` keeps the entries of those sources or folders."""
    from .config import StudyConfig
    if isinstance(profile_or_sources, StudyConfig):
        plan = profile_plan(profile_or_sources, m)
    elif isinstance(profile_or_sources, str) and profile_or_sources not in m.sources:
        plan = profile_plan(_load_profile(profile_or_sources, dest), m)
    elif profile_or_sources is None:
        plan = Plan("all sources", list(m.entries))
    else:
        names = [profile_or_sources] if isinstance(profile_or_sources, str) else list(profile_or_sources)
        unknown = [n for n in names if n not in m.sources]
        if unknown:
            raise FetchError(f"unknown source(s) {', '.join(unknown)} (known: {', '.join(m.sources)})")
        plan = Plan(f"sources {', '.join(names)}", [e for e in m.entries if e.source in names])
    if only:
        want = [o.strip("/") for o in only]
        unknown = [o for o in want if o not in m.sources and not any(_inside(e.path, o) for e in plan.entries)]
        if unknown:
            raise FetchError(f"--only {' '.join(unknown)}: not a source or folder of {plan.label} "
                             f"(sources: {', '.join(m.sources)})")
        plan.entries = [e for e in plan.entries if e.source in want or any(_inside(e.path, o) for o in want)]
        plan.label += f" (only {' '.join(want)})"
    return plan


def _inside(path: str, prefix: str) -> bool:
    return path.rstrip("/") == prefix or path.startswith(prefix + "/")


# ------------------------------------------------------------------------------------------- checks
@dataclass
class FileStatus:
    entry: Entry
    status: str              # verified | size-only | present | missing | mismatch
    detail: str = ""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


class _State:
    """`<dest>/.classit-data/state.json`: what fetch installed (from where) and each file's sha256 keyed by its
    size and mtime, so a re-check hashes only files that changed."""

    def __init__(self, dest: Path):
        self.path = dest / STATE_DIR / "state.json"
        self.files: dict[str, dict] = read_json_or_empty(self.path).get("files", {})
        self.dirty = False

    def cached_sha(self, rel: str, st: os.stat_result) -> str | None:
        rec = self.files.get(rel)
        if rec and rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns:
            return rec.get("sha256")
        return None

    def remember(self, rel: str, st: os.stat_result, sha: str, **info: Any) -> None:
        rec = self.files.get(rel, {})
        if rec.get("sha256") != sha or rec.get("mtime_ns") != st.st_mtime_ns or info:
            self.files[rel] = {**rec, **info, "sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            self.dirty = True

    def save(self) -> None:
        if self.dirty:
            atomic_write_json(self.path, {"about": "written by classit_utils.fetch; safe to delete",
                                          "files": self.files})
            self.dirty = False


def _match(e: Entry, sha: str | None, size: int) -> tuple[bool, str]:
    """Whether bytes with this sha256/size pass the entry's check, and which accepted copy they are."""
    if e.sha256:
        if sha == e.sha256 and (e.size is None or size == e.size):
            return True, ""
        for a_sha, a_size, what in e.accept:
            if sha == a_sha and (a_size is None or size == a_size):
                return True, what
        got = f"sha256 {sha[:12]}..." if sha else f"{size:,} bytes"
        return False, f"{got} (expected sha256 {e.sha256[:12]}...{'' if e.size is None else f', {e.size:,} bytes'})"
    if e.size is not None and size != e.size:
        return False, f"{size:,} bytes (expected {e.size:,})"
    return True, ""


def _folder_files(e: Entry, folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob(e.glob) if p.is_file()) if folder.is_dir() else []


def _check_folder(e: Entry, files: list[Path]) -> str | None:
    """Why a folder entry's files fail its size/row checks (None: they pass)."""
    total = sum(f.stat().st_size for f in files)
    if e.size is not None and total != e.size:
        return f"{total:,} bytes in {len(files)} file(s) (expected {e.size:,})"
    if e.rows is not None:
        import pyarrow.parquet as pq
        try:
            rows = sum(pq.read_metadata(f).num_rows for f in files)
        except Exception as err:  # noqa: BLE001  (a corrupt parquet file, whatever pyarrow raises)
            return f"unreadable parquet ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        if rows != e.rows:
            return f"{rows:,} rows (expected {e.rows:,})"
    return None


def verify(e: Entry, dest: Path, state: _State | None = None) -> FileStatus:
    """The entry's status in `dest`: verified, size-only, present (no check known), missing or mismatch."""
    target = dest / e.path
    if e.is_dir:
        files = _folder_files(e, target)
        if not files:
            return FileStatus(e, MISSING)
        problem = _check_folder(e, files)
        if problem:
            return FileStatus(e, MISMATCH, problem)
        what = f"{len(files)} file(s)"
        if e.level == SIZE_ONLY:
            return FileStatus(e, SIZE_ONLY, what + ", total size" + (" and rows" if e.rows is not None else ""))
        return FileStatus(e, PRESENT, what)
    if not target.is_file():
        return FileStatus(e, MISSING)
    st = target.stat()
    sha = None
    if e.sha256:
        sha = (state.cached_sha(e.path, st) if state else None) or sha256_file(target)
        if state:
            state.remember(e.path, st, sha)
    ok, what = _match(e, sha, st.st_size)
    if not ok:
        return FileStatus(e, MISMATCH, what)
    return FileStatus(e, e.level, f"accepted: {what}" if what else "")


# ------------------------------------------------------------------------------------------- HTTP
class _ReadTimeout:
    """Connect within the request's timeout, then wait at most `read_timeout` for each read."""

    def __init__(self, *args, read_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self._read_timeout = read_timeout

    def connect(self):
        super().connect()
        self.sock.settimeout(self._read_timeout)


class _TimedHTTPConnection(_ReadTimeout, http.client.HTTPConnection):
    pass


class _TimedHTTPSConnection(_ReadTimeout, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout: float):
        super().__init__()
        self.read_timeout = read_timeout

    def http_open(self, req):
        return self.do_open(functools.partial(_TimedHTTPConnection, read_timeout=self.read_timeout), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout: float):
        super().__init__()
        self.read_timeout = read_timeout

    def https_open(self, req):
        return self.do_open(functools.partial(_TimedHTTPSConnection, read_timeout=self.read_timeout), req,
                            context=self._context)


def _resolve_within(host: str, port: int, timeout: float) -> None:
    """Name lookups ignore socket timeouts; a resolver that never answers must not hang a fetch."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if host == "localhost":
        return
    out: dict[str, BaseException] = {}

    def lookup():
        try:
            socket.getaddrinfo(host, port)
        except BaseException as err:  # noqa: BLE001  (handed back to the caller's thread)
            out["err"] = err
    t = threading.Thread(target=lookup, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise FetchError(f"name lookup of {host} timed out after {timeout:g} s")
    if "err" in out:
        raise out["err"]


def _reason(err: BaseException, timeout: float) -> str:
    if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
        err = err.reason
    elif isinstance(err, urllib.error.URLError):
        return str(err.reason)
    if isinstance(err, (TimeoutError, socket.timeout)):
        return f"timed out after {timeout:g} s"
    if isinstance(err, socket.gaierror):
        return f"name lookup failed: {err.strerror}"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, ssl.SSLError):
        return f"TLS error: {err.reason or err}"
    if isinstance(err, http.client.IncompleteRead):
        return f"connection closed after {len(err.partial):,} more bytes"
    return (str(err).splitlines() or [type(err).__name__])[0] or type(err).__name__


def open_url(url: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT, headers: Mapping[str, str] | None = None):
    """An HTTP(S) response with a connect and a read timeout (proxies from the environment are honoured);
    FetchError `<url>: unreachable (...)` or `<url>: HTTP <code> <reason>`."""
    connect, read = timeout
    parts = urllib.parse.urlsplit(url)
    proxied = parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname or "")
    if parts.hostname and not proxied:          # through a proxy, the proxy looks the name up
        try:
            _resolve_within(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), connect)
        except FetchError as err:
            raise Unreachable(f"{url}: unreachable ({err})") from None
        except OSError as err:
            raise Unreachable(f"{url}: unreachable ({_reason(err, connect)})") from None
    opener = urllib.request.build_opener(_HTTPHandler(read), _HTTPSHandler(read))
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        return opener.open(req, timeout=connect)
    except urllib.error.HTTPError as err:
        err.close()
        raise HTTPStatusError(f"{url}: HTTP {err.code} {err.reason}", err.code) from None
    except urllib.error.URLError as err:
        raise Unreachable(f"{url}: unreachable ({_reason(err, connect)})") from None
    except (OSError, http.client.HTTPException) as err:     # no answer to the request within the read timeout
        raise Unreachable(f"{url}: unreachable ({_reason(err, read)})") from None


def http_download(url: str, part: Path, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT, retries: int = 2,
                  progress: bool = True, desc: str | None = None) -> Path:
    """Download `url` into `part`, continuing an existing `part` with a Range request; a connection lost
    mid-file is resumed up to `retries` times while it makes progress. Returns `part` once complete."""
    from tqdm import tqdm
    part.parent.mkdir(parents=True, exist_ok=True)
    attempt, restarted = 0, False
    while True:
        have = part.stat().st_size if part.is_file() else 0
        try:
            resp = open_url(url, timeout, {"Range": f"bytes={have}-"} if have else None)
        except HTTPStatusError as err:
            if have and not restarted and err.code == 416:     # the part is stale: start again once
                part.unlink()
                restarted = True
                continue
            raise
        with resp:
            if have and resp.status == 206 and _range_start(resp) != have:
                if restarted:
                    raise FetchError(f"{url}: the server answered the Range request with another range")
                part.unlink()                  # not the range asked for: start again once
                restarted = True
                continue
            start = have if have and resp.status == 206 else 0     # a 200 ignores the Range: start again
            length = resp.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else None
            got, lost = 0, None
            with open(part, "ab" if start else "wb") as f, \
                    tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                         desc=desc or part.name, disable=not progress, file=sys.stderr, leave=False) as bar:
                try:
                    while True:
                        chunk = resp.read(CHUNK)
                        if not chunk:
                            break
                        f.write(chunk)
                        got += len(chunk)
                        bar.update(len(chunk))
                except (OSError, http.client.HTTPException) as err:
                    lost = err
            done = start + got
            if lost is None and (total is None or done >= total):
                return part
            why = _reason(lost, timeout[1]) if lost is not None else "the server closed the connection"
            if got and attempt < retries:
                attempt += 1
                log.info("%s: connection lost after %s bytes (%s); resuming", url, f"{done:,}", why)
                continue
            raise FetchError(f"{url}: connection lost after {done:,}"
                             f"{'' if total is None else f' of {total:,}'} bytes ({why}); rerun to resume")


def _range_start(resp) -> int | None:
    cr = resp.headers.get("Content-Range", "")          # "bytes 100-199/200"
    try:
        return int(cr.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


# ------------------------------------------------------------------------------------------- installing
class _Index:
    """Files of an archive or a local copy, found by any trailing part of their path, so a copy with or
    without a wrapper folder (`evaluation_data/`, `Switchboard-Corpus-<sha>/`) is read the same way."""

    def __init__(self, openers: Mapping[str, Callable[[], Any]]):
        self.open = dict(openers)
        self.by_suffix: dict[str, list[str]] = defaultdict(list)
        for n in self.open:
            parts = n.split("/")
            for i in range(len(parts)):
                self.by_suffix["/".join(parts[i:])].append(n)

    def find(self, candidates: Iterable[str]) -> str | None:
        for c in candidates:
            hits = self.by_suffix.get(c)
            if hits:
                return min(hits, key=lambda n: (len(n), n))
        return None

    def find_dir(self, prefixes: Iterable[str], glob: str) -> list[str]:
        for p in prefixes:
            groups: dict[str, list[str]] = defaultdict(list)
            for n in self.open:
                cut = [0] + [i + 1 for i, ch in enumerate(n) if ch == "/"]
                for i in cut:
                    rest = n[i:]
                    if rest.startswith(p) and rest[len(p):] and "/" not in rest[len(p):] \
                            and fnmatch.fnmatch(rest[len(p):], glob):
                        groups[n[:i]].append(n)
                        break
            if groups:
                return sorted(groups[min(groups, key=len)])
        return []


def _skip(name: str) -> bool:
    return name.endswith("/") or any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


def _zip_openers(z: zipfile.ZipFile, prefix: str = "") -> dict[str, Callable[[], Any]]:
    return {prefix + n: functools.partial(z.open, n) for n in z.namelist() if not _skip(n)}


@dataclass
class _Ctx:
    m: Manifest
    dest: Path
    state: _State
    revisions: Mapping[str, str | None]
    timeout: tuple[float, float]
    retries: int
    progress: bool
    echo: Callable[[str], None]
    errors: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)
    network: bool = False

    @property
    def downloads(self) -> Path:
        return self.dest / STATE_DIR / "downloads"

    def hand_hint(self, entries: Sequence[Entry], or_from: bool = True) -> str:
        """`put the files in <dest>/<folder>/ by hand or use --from DIR` for the entries' folders."""
        folders = []
        for e in entries:           # the layout folder an entry falls under (swda/swda_data/, not its train/)
            keys = [k for k in self.m.sources[e.source].layout if k.endswith("/") and e.path.startswith(k)]
            parent = (e.path if e.is_dir else max(keys, key=len) if keys
                      else str(PurePosixPath(e.path).parent) + "/")
            f = f"{self.dest}/{'' if parent == './' else parent}"
            if f not in folders:
                folders.append(f)
        more = f" (and {len(folders) - 3} more folders)" if len(folders) > 3 else ""
        return f"put the files in {', '.join(folders[:3])}{more} by hand" + (" or use --from DIR" if or_from else "")


def part_path(dest: Path, source: str, rel: str) -> Path:
    """Where a direct download of `rel` is kept until it is complete and verified (resumed from there)."""
    return Path(dest) / STATE_DIR / "downloads" / source / (rel.rstrip("/") + ".part")


def _put(ctx: _Ctx, e: Entry | None, rel: str, read, origin: str, info: Mapping[str, Any]) -> str | None:
    """Copy a readable binary stream to `rel`: a temp file beside it, checked against `e`, then renamed.
    Returns why it was refused (nothing is written then), or None."""
    target = ctx.dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    h, n = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in iter(lambda: read.read(CHUNK), b""):
                f.write(chunk)
                h.update(chunk)
                n += len(chunk)
        ok, why = _match(e, h.hexdigest(), n) if e is not None and not e.is_dir else (True, "")
        if not ok:
            os.unlink(tmp)
            return why
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    ctx.state.remember(rel, target.stat(), h.hexdigest(), **info, installed=time.strftime("%Y-%m-%dT%H:%M:%S"))
    ctx.installed.append(rel)
    return None


def _install_indexed(ctx: _Ctx, entries: Sequence[Entry], index: _Index, origin: str,
                     info: Mapping[str, Any]) -> list[tuple[Entry, str]]:
    """Install entries found in an index; returns (entry, why) for those not installed."""
    failed = []
    for e in entries:
        candidates = (*e.members, e.path)
        if e.is_dir:
            names = index.find_dir(candidates, e.glob)
            if not names:
                failed.append((e, f"not in {origin} (looked for {e.members[0]}{e.glob})"))
                continue
            for n in names:
                with index.open[n]() as r:
                    _put(ctx, None, e.path + n.rsplit("/", 1)[-1], r, origin, info)
            continue
        name = index.find(candidates)
        if name is None:
            failed.append((e, f"not in {origin} (looked for {e.members[0]})"))
            continue
        with index.open[name]() as r:
            why = _put(ctx, e, e.path, r, f"{origin}:{name}", info)
        if why:
            failed.append((e, f"{why} in {origin}:{name}"))
    return failed


def _source_url(s: Source, rev: str | None, member: str = "") -> str:
    if rev is not None and rev != s.revision and "{revision}" not in (s.url or ""):
        if not s.url_versioned:
            raise FetchError(f"{s.name}: {s.url} cannot be pinned to a revision (not versioned)")
        return s.url_versioned.format(revision=rev, member=member)
    return s.url.format(revision=rev, member=member)


def _download_file(ctx: _Ctx, s: Source, e: Entry, url: str) -> str | None:
    """A direct download of one file: into its `.part`, checked, then renamed into place; a `.part` that
    fails its check is deleted (resuming it could never pass). Returns why it failed, or None."""
    part = part_path(ctx.dest, s.name, e.path)
    ctx.network = True
    http_download(url, part, timeout=ctx.timeout, retries=ctx.retries, progress=ctx.progress, desc=e.path)
    sha, size = sha256_file(part), part.stat().st_size
    ok, why = _match(e, sha, size)
    if not ok:
        part.unlink()
        return f"{why} from {url}"
    target = ctx.dest / e.path
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(part, 0o644)
    os.replace(part, target)
    ctx.state.remember(e.path, target.stat(), sha, source=s.name, url=url,
                       installed=time.strftime("%Y-%m-%dT%H:%M:%S"))
    ctx.installed.append(e.path)
    return None


def _fetch_files(ctx: _Ctx, s: Source, entries: Sequence[Entry]) -> None:
    rev = ctx.revisions.get(s.name)
    for e in entries:
        if e.is_dir:
            ctx.errors.append(f"{e.path}: no file list is known, so no URL to fetch; {ctx.hand_hint([e])}")
            continue
        url = _source_url(s, rev, e.members[0])
        try:
            why = _download_file(ctx, s, e, url)
        except Unreachable as err:        # the host is down: the other files would wait just as long
            ctx.errors.append(f"{err}; {ctx.hand_hint(entries)}")
            return
        except FetchError as err:
            ctx.errors.append(f"{err}; {ctx.hand_hint([e])}")
            continue
        if why:
            ctx.errors.append(f"{e.path}: {why}; not installed")


def _fetch_archive(ctx: _Ctx, s: Source, entries: Sequence[Entry]) -> None:
    if all(e.url for e in entries):      # every file needed has a direct copy: skip the (large) archive
        for e in entries:
            try:
                why = _download_file(ctx, s, e, e.url)
            except FetchError as err:
                ctx.errors.append(f"{err}; {ctx.hand_hint([e])}")
                continue
            if why:
                ctx.errors.append(f"{e.path}: {why}; not installed")
        return
    rev = ctx.revisions.get(s.name)
    url = _source_url(s, rev)
    art = ctx.downloads / s.filename
    if art.is_file():
        ctx.echo(f"{PROG}: {s.name}: using {art} (downloaded earlier)")
    else:
        ctx.echo(f"{PROG}: {s.name}: downloading {url}")
        ctx.network = True
        try:
            os.replace(http_download(url, art.with_name(art.name + ".part"), timeout=ctx.timeout,
                                     retries=ctx.retries, progress=ctx.progress, desc=s.filename), art)
        except FetchError as err:
            raise FetchError(f"{err}; {ctx.hand_hint(entries)}") from None
    try:
        z = zipfile.ZipFile(art)
    except zipfile.BadZipFile:
        size = art.stat().st_size
        art.unlink()
        raise FetchError(f"{url}: the download ({size:,} bytes) is not a zip archive; deleted it, rerun to fetch "
                         f"it again, or {ctx.hand_hint(entries)}") from None
    with z:
        failed = _install_indexed(ctx, entries, _Index(_zip_openers(z)), s.filename,
                                  {"source": s.name, "url": url})
    art.unlink()                         # read through: a rerun would find the same archive (kept if interrupted)
    for e, why in failed:
        if e.url:                        # a mirror of a member the archive lacks (or holds in another version)
            try:
                why2 = _download_file(ctx, s, e, e.url)
            except FetchError as err:
                why2 = str(err)
            if why2 is None:
                continue
            why = f"{why}; mirror: {why2}"
        ctx.errors.append(f"{e.path}: {why}; not installed")


def _hf_offline() -> bool:
    env = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    try:
        from huggingface_hub import constants
        return env or bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return env


def _fetch_hub(ctx: _Ctx, s: Source, entries: Sequence[Entry]) -> None:
    """A HF dataset snapshot of the entries' files, staged under downloads/, checked, then moved in."""
    import huggingface_hub
    rev = ctx.revisions.get(s.name) or "main"
    where = f"{s.repo_id} (HF dataset, revision {rev})"
    offline = _hf_offline()
    if not offline:                      # fail fast: the hub client retries for a long time on a dead network
        endpoint = (os.environ.get("HF_ENDPOINT") or huggingface_hub.constants.ENDPOINT).rstrip("/")
        probe = f"{endpoint}/api/datasets/{s.repo_id}/revision/{urllib.parse.quote(rev, safe='')}"
        ctx.network = True
        try:
            open_url(probe, ctx.timeout).close()
        except Unreachable as err:       # an HTTP error status is the hub client's to explain
            raise FetchError(f"{where}: {endpoint} {str(err).split(': ', 1)[1]}; {ctx.hand_hint(entries)}") from None
        except HTTPStatusError:
            pass
    stage = ctx.downloads / s.name
    patterns = sorted({m + e.glob for e in entries for m in e.members})
    ctx.echo(f"{PROG}: {s.name}: {'reading the local cache of' if offline else 'downloading'} {where}")
    try:
        huggingface_hub.snapshot_download(s.repo_id, repo_type="dataset", revision=rev, allow_patterns=patterns,
                                          local_dir=str(stage), local_files_only=offline,
                                          etag_timeout=ctx.timeout[0])
    except Exception as err:  # noqa: BLE001  (the hub client's many error types: one line each)
        raise FetchError(f"{where}: {_hub_reason(err, offline)}; {ctx.hand_hint(entries)}") from None
    files = {f.relative_to(stage).as_posix(): functools.partial(open, f, "rb")
             for f in stage.rglob("*") if f.is_file() and not _skip(f.relative_to(stage).as_posix())}
    index = _Index(files)
    ok = True
    for e in entries:
        names = index.find_dir(e.members, e.glob)
        problem = "not in the snapshot" if not names else _check_folder(e, [stage / n for n in names])
        if problem:
            ok = False
            ctx.errors.append(f"{e.path}: {problem} ({where}); not installed")
            continue
        for n in names:
            with open(stage / n, "rb") as r:
                _put(ctx, None, e.path + n.rsplit("/", 1)[-1], r, where, {"source": s.name, "revision": rev})
    if ok:
        shutil.rmtree(stage, ignore_errors=True)


def _hub_reason(err: Exception, offline: bool) -> str:
    name = type(err).__name__
    if offline and name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled", "FileNotFoundError"):
        return "not in the local cache and HF_HUB_OFFLINE is set (offline)"
    if name in ("RepositoryNotFoundError", "GatedRepoError"):
        return "no such dataset, or it is gated/private (log in with `hf auth login`)"
    if name == "RevisionNotFoundError":
        return "no such revision"
    first = (str(err).splitlines() or [""])[0]
    return f"{name}: {first}" if first else name


FETCHERS = {"archive": _fetch_archive, "files": _fetch_files, "hub": _fetch_hub}


def _local_index(stack: ExitStack, src: Path, m: Manifest, scratch: Path) -> _Index:
    """Files of a local copy (a folder or a zip, laid out like the sources or like the destination); an
    archive of a source found inside it (train_100M.zip, evaluation_data.zip, ...) is read too."""
    artifacts = {n for s in m.sources.values() if s.kind == "archive" for n in (s.filename, *s.aliases)}
    openers: dict[str, Callable[[], Any]] = {}
    nested: list[tuple[str, Callable[[], Any]]] = []
    if src.is_dir():
        for f in sorted(src.rglob("*")):
            rel = f.relative_to(src).as_posix()
            if f.is_file() and not _skip(rel):
                (nested.append((rel, functools.partial(open, f, "rb"))) if f.name in artifacts
                 else openers.setdefault(rel, functools.partial(open, f, "rb")))
    else:
        try:
            z = stack.enter_context(zipfile.ZipFile(src))
        except (zipfile.BadZipFile, OSError) as err:
            raise FetchError(f"--from {src}: not a folder or a zip archive ({err})") from None
        for n, op in _zip_openers(z).items():
            (nested.append((n, op)) if n.rsplit("/", 1)[-1] in artifacts else openers.setdefault(n, op))
    for rel, op in nested:
        path = src / rel if src.is_dir() else None
        if path is None:                 # a zip inside the zip: ZipFile needs a seekable file
            scratch.mkdir(parents=True, exist_ok=True)
            path = scratch / rel.replace("/", "_")
            with op() as r, open(path, "wb") as w:
                shutil.copyfileobj(r, w, CHUNK)
        try:
            inner = stack.enter_context(zipfile.ZipFile(path))
        except zipfile.BadZipFile:
            continue
        for n, iop in _zip_openers(inner, prefix=f"{rel}!/").items():
            openers.setdefault(n, iop)
    return _Index(openers)


# ------------------------------------------------------------------------------------------- fetch / check
@dataclass
class Report:
    """The outcome of `fetch` or `check`: a status per entry, one-line errors, notes."""
    label: str
    dest: Path
    statuses: list[FileStatus]
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)
    nothing_to_do: bool = False
    network: bool = False
    hash_from: Mapping[str, str] = field(default_factory=dict)     # the manifest's: where each hash comes from

    @property
    def ok(self) -> bool:
        return not self.errors and not any(s.status in (MISSING, MISMATCH) for s in self.statuses)

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.statuses)


def resolve_dest(dest: str | Path | None, required: bool = True) -> Path | None:
    """`dest`, else $CLASSIT_DATA."""
    dest = dest or os.environ.get("CLASSIT_DATA")
    if not dest:
        if required:
            raise FetchError("no destination: give --dest DIR or set CLASSIT_DATA")
        return None
    return Path(os.path.expandvars(str(dest))).expanduser().absolute()


def _writable(dest: Path) -> bool:
    """Write permission, and write bits at all: a folder made read-only stays untouched even for root."""
    while not dest.exists() and dest.parent != dest:
        dest = dest.parent
    return os.access(dest, os.W_OK) and bool(dest.stat().st_mode & 0o222)


def _planned(profile_or_sources, m: Manifest, dest, only) -> tuple[Plan, Path | None]:
    """The plan, and the destination (only a plan with entries needs one)."""
    path = resolve_dest(dest, required=False)
    plan = make_plan(profile_or_sources, m, path, only)
    if plan.entries and path is None:
        resolve_dest(None)
    return plan, path


def _manifest(manifest: Manifest | str | Path | None) -> Manifest:
    return manifest if isinstance(manifest, Manifest) else load_manifest(manifest)


def fetch(profile_or_sources: Any = None, dest: str | Path | None = None, *,
          revisions: Mapping[str, str] | None = None, from_path: str | Path | None = None,
          only: Sequence[str] = (), timeout: tuple[float, float] = DEFAULT_TIMEOUT, retries: int = 2,
          progress: bool = True, manifest: Manifest | str | Path | None = None,
          echo: Callable[[str], None] | None = None) -> Report:
    """Install what `profile_or_sources` needs into `dest` ($CLASSIT_DATA by default): a profile name, a params
    file or a StudyConfig; a list of source names; or None for every source. Entries already in place are
    left alone (no network call when all are); the rest come from `from_path` (a local copy) or their
    sources, at the manifest's revisions unless `revisions` ({source: revision}) overrides them. Problems are
    collected as one-line `Report.errors`, never raised, except a bad manifest/profile/argument (FetchError,
    ConfigError)."""
    m = _manifest(manifest)
    echo = echo or log.info
    plan, dest = _planned(profile_or_sources, m, dest, only)
    if not plan.entries:
        return Report(plan.label, dest or Path("."), [], notes=list(plan.notes), nothing_to_do=True)
    unknown = [k for k in (revisions or {}) if k not in m.sources]
    if unknown:
        raise FetchError(f"revisions: unknown source(s) {', '.join(unknown)} (known: {', '.join(m.sources)})")
    revs = {n: s.revision for n, s in m.sources.items()} | plan.revisions | dict(revisions or {})
    state = _State(dest)
    before = [verify(e, dest, state) for e in plan.entries]
    todo = [s.entry for s in before if s.status in (MISSING, MISMATCH)]
    report = Report(plan.label, dest, before, notes=list(plan.notes), hash_from=m.hash_from)
    if not todo:
        report.nothing_to_do = True
        if state.path.parent.is_dir() and _writable(dest):     # keep the hashes for the next check
            state.save()
        return report
    if not _writable(dest):
        raise FetchError(f"{dest}: read-only; give another --dest (the files are installed there)")
    ctx = _Ctx(m, dest, state, revs, timeout, retries, progress, echo)
    try:
        if from_path is not None:
            src = Path(from_path).expanduser()
            if not src.exists():
                raise FetchError(f"--from {src}: no such folder or file")
            with ExitStack() as stack:
                index = _local_index(stack, src.absolute(), m, ctx.downloads / "from")
                for e, why in _install_indexed(ctx, todo, index, str(src), {"source": f"from {src}"}):
                    ctx.errors.append(f"{e.path}: {why}; {ctx.hand_hint([e], or_from=False)}")
            shutil.rmtree(ctx.downloads / "from", ignore_errors=True)
        else:
            for name, s in m.sources.items():
                ents = [e for e in todo if e.source == name]
                if ents:
                    try:
                        FETCHERS[s.kind](ctx, s, ents)
                    except FetchError as err:
                        ctx.errors.append(str(err))
    finally:
        state.save()
    report.errors, report.installed, report.network = ctx.errors, ctx.installed, ctx.network
    report.statuses = [verify(e, dest, state) for e in plan.entries]
    state.save()
    return report


def check(profile_or_sources: Any = None, dest: str | Path | None = None, *, only: Sequence[str] = (),
          manifest: Manifest | str | Path | None = None) -> Report:
    """The status of every entry `profile_or_sources` needs in `dest`; writes nothing (works on a read-only copy)."""
    m = _manifest(manifest)
    plan, dest = _planned(profile_or_sources, m, dest, only)
    if not plan.entries:
        return Report(plan.label, dest or Path("."), [], notes=list(plan.notes))
    state = _State(dest)
    return Report(plan.label, dest, [verify(e, dest, state) for e in plan.entries], notes=list(plan.notes),
                  hash_from=m.hash_from)


# ------------------------------------------------------------------------------------------- reporting
def _groups(statuses: Sequence[FileStatus]) -> list[tuple[str, list[FileStatus]]]:
    groups: dict[str, list[FileStatus]] = {}
    for s in statuses:
        key = s.entry.path if s.entry.is_dir else str(PurePosixPath(s.entry.path).parent) + "/"
        groups.setdefault("" if key == "./" else key, []).append(s)
    return list(groups.items())


def format_report(report: Report, verbose: bool = False) -> str:
    """Per folder (or per file where a folder's files differ): verified, size-only, present, missing, mismatch;
    then a summary and, loudly, what could not be verified by sha256."""
    lines = [f"{PROG}: {report.label}, in {report.dest} ({len(report.statuses)} entries)"]
    for key, group in _groups(report.statuses):
        kinds = {(s.status, s.detail) for s in group}
        if len(group) > 1 and len(kinds) == 1 and not verbose:
            st = group[0]
            lines.append(f"  {st.status:<9} {key}  ({len(group)} files{', ' + st.detail if st.detail else ''})")
            continue
        for s in group:
            detail = ", ".join(x for x in (s.detail, verbose and s.entry.hash_from and f"hash from: {s.entry.hash_from}")
                               if x)
            lines.append(f"  {s.status:<9} {s.entry.path}{'  (' + detail + ')' if detail else ''}")
    notes = [s for s in report.statuses if s.entry.note and (verbose or s.status != VERIFIED)]
    for s in notes:
        lines.append(f"  note: {s.entry.path}: {s.entry.note}")
    for n in report.notes:
        lines.append(f"  note: {n}")
    if verbose:
        m_hash = {s.entry.hash_from for s in report.statuses if s.entry.hash_from}
        for key in sorted(m_hash):
            lines.append(f"  hash from {key}: {report.hash_from.get(key, '?')}")
    counts = {k: report.count(k) for k in (VERIFIED, SIZE_ONLY, PRESENT, MISSING, MISMATCH)}
    lines.append("summary: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    for level, what in ((SIZE_ONLY, "verified by size (and rows) only: no sha256 is known"),
                        (PRESENT, "NOT verified at all: no sha256 or size is known")):
        paths = [s.entry.path for s in report.statuses if s.status == level]
        if paths:
            shown = ", ".join(paths[:6]) + (f" (+{len(paths) - 6} more)" if len(paths) > 6 else "")
            lines.append(f"WARNING: {len(paths)} entr{'y' if len(paths) == 1 else 'ies'} {what}: {shown}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- command line
def _timeout(text: str) -> tuple[float, float]:
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seconds: {text!r} (CONNECT[,READ])") from None
    if len(parts) not in (1, 2) or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"need CONNECT[,READ] seconds > 0 (got {text!r})")
    return (parts[0], parts[-1])


def _revision(text: str) -> tuple[str, str]:
    name, sep, rev = text.partition("=")
    if not sep or not name or not rev:
        raise argparse.ArgumentTypeError(f"need SOURCE=REVISION (got {text!r})")
    return name, rev


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Fetch, verify and install the data a profile needs "
                                                       "(classit_utils/data_manifest.json lists every file).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_ in (("fetch", "download (or copy --from a local copy) and install what is not in place"),
                        ("check", "say per file or folder: verified, size-only, present, missing or mismatch")):
        c = sub.add_parser(name, help=help_, description=help_)
        c.add_argument("--profile", help="demo, small, paper, or a params YAML file (default: every source)")
        c.add_argument("--dest", help="data folder to install into (default: $CLASSIT_DATA)")
        c.add_argument("--only", nargs="+", default=(), metavar="NAME",
                       help="only these sources or folders (e.g. evaluation_data, blimp_fast, babylm_corpus/train_10M)")
        c.add_argument("--manifest", help=argparse.SUPPRESS)     # another manifest (tests, mirrors)
        if name == "fetch":
            c.add_argument("--from", dest="from_path", metavar="DIR_OR_ZIP",
                           help="install from a local copy (laid out like the sources or like the destination)")
            c.add_argument("--revision", type=_revision, action="append", default=[], metavar="SOURCE=REV",
                           help="override a source's pinned revision (a commit, an OSF version number)")
            c.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT, metavar="CONNECT[,READ]",
                           help=f"network timeouts in seconds (default {DEFAULT_TIMEOUT[0]:g},{DEFAULT_TIMEOUT[1]:g})")
            c.add_argument("--quiet", action="store_true", help="no progress bars")
        else:
            c.add_argument("-v", "--verbose", action="store_true", help="one line per file, and every note")
    return p


def _err(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """`classit-data fetch|check ...`: 0 when everything needed is in place and passes its check, 1 when
    something is missing or failed (one line each on stderr), 2 for a usage or params error."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "fetch" and not (args.profile or args.only):
        _err("say what to fetch: --profile P and/or --only NAME ...")
        return 2
    target = args.profile
    try:
        if args.command == "check":
            report = check(target, args.dest, only=args.only, manifest=args.manifest)
            print(format_report(report, verbose=args.verbose))
            return 0 if report.ok else 1
        report = fetch(target, args.dest, revisions=dict(args.revision), from_path=args.from_path,
                       only=args.only, timeout=args.timeout, progress=not args.quiet, manifest=args.manifest,
                       echo=print)
    except (FetchError, ConfigError, DataError) as e:
        _err(e)
        return 2
    except KeyboardInterrupt:
        _err("interrupted; partial downloads are kept (.part files): rerun to resume")
        return 130
    except OSError as e:
        _err(f"{e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}")
        return 2
    except Exception as e:  # a bug: still one line (CLASSIT_DEBUG=1 shows the traceback)
        if os.environ.get("CLASSIT_DEBUG"):
            raise
        _err(f"unexpected {type(e).__name__}: {e} (rerun with CLASSIT_DEBUG=1 for the traceback)")
        return 2
    if not report.statuses:
        print("\n".join(f"{PROG}: {n}" for n in report.notes) or f"{PROG}: {report.label}: nothing to fetch")
        return 0
    if report.nothing_to_do:
        print(f"{PROG}: {report.label}: all {len(report.statuses)} entries already in place in {report.dest}; "
              f"nothing to download (no network call)")
    for e in report.errors:
        _err(e)
    if not report.nothing_to_do or not report.ok:
        print(format_report(report))
    else:
        tail = format_report(report).splitlines()
        print("\n".join(t for t in tail if t.startswith(("summary:", "WARNING:"))))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
