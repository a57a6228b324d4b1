"""classit_utils.fetch, offline: a local HTTP server on 127.0.0.1 (a thread, port 0) serves fixture archives and
files; the hub is a local folder behind a stand-in `snapshot_download` (or the real client with HF_HUB_OFFLINE).
Nothing here reaches the network."""
from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import shutil
import socket
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from classit_utils import fetch as F
from classit_utils.config import load_config

BIG = bytes((i * 7919 + i // 251) % 256 for i in range(300_000))     # resume needs something to cut
FAST = (2.0, 2.0)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- a local server
class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server
        srv.log.append((self.path, self.headers.get("Range")))
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        rng = self.headers.get("Range")
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        if start >= len(data) > 0:
            self.send_error(416, "Range Not Satisfiable")
            return
        body = data[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path in srv.cut_once:                # half the body, then the connection drops
            srv.cut_once.discard(self.path)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.files, srv.log, srv.cut_once = {}, [], set()
    srv.handle_error = lambda *a: None
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _parquet(n: int) -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"prompt": [f"q{i}" for i in range(n)], "reply": [f"a{i}" for i in range(n)],
                  "source": "x", "text": "t"}).to_parquet(buf, index=False)
    return buf.getvalue()


A, B, SMALL = b"one two three\n", b"four five\n", b"small file\n"
SWB, WIKI = _parquet(5), _parquet(7)


def write_manifest(tmp_path: Path, base: str, *, small_sha: str | None = None, extra: list | None = None,
                   archive_url: str | None = None) -> Path:
    """A manifest of three sources: an archive, direct files, and a hub dataset."""
    manifest = {
        "sources": {
            "corpus": {"kind": "archive", "url": archive_url or f"{base}/corpus.zip", "filename": "corpus.zip",
                       "cite": "test archive", "layout": {"babylm_corpus/train_x/": ["train_x/"]}},
            "direct": {"kind": "files", "url": base + "/{revision}/{member}", "revision": "r1", "cite": "test files",
                       "layout": {"direct/": ["data/"]}},
            "hub": {"kind": "hub", "repo_id": "org/CLASS_IT", "revision": "main", "cite": "test hub",
                    "layout": {"class_it/": [""]}},
        },
        "files": [
            {"path": "babylm_corpus/train_x/a.train", "source": "corpus", "sha256": sha(A), "size": len(A)},
            {"path": "babylm_corpus/train_x/b.train", "source": "corpus", "sha256": sha(B), "size": len(B)},
            {"path": "direct/big.bin", "source": "direct", "sha256": sha(BIG), "size": len(BIG)},
            {"path": "direct/small.txt", "source": "direct", "sha256": small_sha or sha(SMALL), "size": None},
            {"path": "direct/notes/", "source": "direct", "glob": "*.md", "sha256": None, "size": None},
            {"path": "class_it/switchboard/", "source": "hub", "glob": "*.parquet", "size": len(SWB), "rows": 5},
            {"path": "class_it/simple_wiki/", "source": "hub", "glob": "*.parquet", "size": len(WIKI), "rows": 7},
            *(extra or []),
        ],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def serve_all(srv) -> None:
    srv.files.update({"/corpus.zip": _zip({"wrapper/train_x/a.train": A, "wrapper/train_x/b.train": B,
                                           "wrapper/README": b"x"}),
                      "/r1/data/big.bin": BIG, "/r1/data/small.txt": SMALL})


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A hub snapshot in a local folder; `snapshot_download` copies what allow_patterns select into local_dir."""
    src = tmp_path / "hubsrc"
    for rel, data in {"switchboard/train-00000-of-00001.parquet": SWB,
                      "simple_wiki/train-00000-of-00001.parquet": WIKI, "README.md": b"card"}.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    calls = []

    def snapshot_download(repo_id, *, repo_type=None, revision=None, allow_patterns=None, local_dir=None, **kw):
        calls.append({"repo_id": repo_id, "repo_type": repo_type, "revision": revision, "patterns": allow_patterns})
        for f in src.rglob("*"):
            rel = f.relative_to(src).as_posix()
            if f.is_file() and any(fnmatch.fnmatch(rel, p) for p in allow_patterns):
                (Path(local_dir) / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, Path(local_dir) / rel)
        return local_dir

    import huggingface_hub
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")       # no reachability probe: nothing leaves the machine
    return src, calls


def statuses(report) -> dict[str, str]:
    return {s.entry.path: s.status for s in report.statuses}


# --------------------------------------------------------------------------- the real manifest and the profiles
def test_real_manifest_cites_sources_and_profiles_derive_from_params(tmp_path):
    m = F.load_manifest()
    assert all(s.cite for s in m.sources.values())
    assert "https://osf.io/ryjfm/" in m.sources["evaluation_data"].cite
    assert m.sources["class_it"].repo_id == "colinglab/CLASS_IT"
    assert all(e.sha256 is None or e.size is not None for e in m.entries)
    assert F.make_plan("demo", m, tmp_path).entries == []
    small = {e.path for e in F.make_plan("small", m, tmp_path).entries}
    # small's corpus: the 600k samples, and from train_10M only the source they lack (switchboard)
    assert {p for p in small if p.startswith("babylm_corpus/train_10M/")} == {"babylm_corpus/train_10M/switchboard.train"}
    assert sum(p.startswith("babylm_corpus/moritzlad_samples_train_600k/") for p in small) == 5
    assert "ewok.zip" in small and "blimp_fast/adjunct_island.jsonl" in small
    assert not any(p.startswith(("blimp_filtered/", "class_it/", "babylm_corpus/train_100M/")) for p in small)
    assert sum(p.startswith("swda/swda_data/train/") for p in small) == 1115
    paper = {e.path for e in F.make_plan("paper", m, tmp_path).entries}
    assert sum(p.startswith("babylm_corpus/train_100M/") for p in paper) == 6
    assert {"class_it/switchboard/", "class_it/simple_wiki/", "glue_filtered/boolq.train.jsonl",
            "comps/comps_base.jsonl", "wug_past_tense/"} <= paper
    assert not any(p.startswith(("blimp_fast/", "babylm_corpus/train_10M/")) for p in paper)
    # CLASS_IT goes where instruct.class_it names it (the data stage reads it from there)
    cfg = load_config("params/paper.yaml", check_paths=False,
                      overrides={"data_root": str(tmp_path), "instruct": {"class_it": "colinglab/CLASS_IT"}})
    relocated = {e.path for e in F.make_plan(cfg, m, tmp_path).entries}
    assert "colinglab/CLASS_IT/switchboard/" in relocated and "class_it/switchboard/" not in relocated
    only = F.make_plan("small", m, tmp_path, only=["blimp_fast", "babylm_10M"]).entries
    assert {e.path.split("/")[0] for e in only} == {"blimp_fast", "babylm_corpus"} and len(only) == 68
    with pytest.raises(F.FetchError, match="--only nope"):
        F.make_plan("small", m, tmp_path, only=["nope"])


# --------------------------------------------------------------------------- downloads
def test_fetch_installs_verifies_and_second_fetch_makes_no_network_call(tmp_path, server, hub, capsys):
    serve_all(server)
    mpath, dest = write_manifest(tmp_path, server.url), tmp_path / "data"
    report = F.fetch(None, dest, manifest=mpath, timeout=FAST, progress=False)
    assert report.network and report.errors == [
        (f"direct/notes/: no file list is known, so no URL to fetch; put the files in {dest}/direct/notes/ by hand "
         "or use --from DIR")]
    st = statuses(report)
    assert st["babylm_corpus/train_x/a.train"] == st["direct/big.bin"] == st["direct/small.txt"] == "verified"
    assert st["class_it/switchboard/"] == "size-only" and st["direct/notes/"] == "missing"
    assert (dest / "babylm_corpus/train_x/b.train").read_bytes() == B
    assert not (dest / F.STATE_DIR / "downloads" / "corpus.zip").exists()     # the archive goes once used
    from classit_utils.instruct import load_class_it
    sets = load_class_it(dest / "class_it")
    assert len(sets["conv"]) == 5 and len(sets["qa"]) == 7
    assert hub[1][0]["repo_type"] == "dataset" and hub[1][0]["revision"] == "main"
    seen = len(server.log)
    rc = F.main(["fetch", "--only", "corpus", "direct/big.bin", "hub", "--dest", str(dest), "--manifest", str(mpath),
                 "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and "nothing to download (no network call)" in out
    assert len(server.log) == seen and len(hub[1]) == 1       # neither the server nor the hub was asked again
    F.fetch(["hub"], dest, manifest=mpath, revisions={"hub": "abc123"}, progress=False)   # in place: no call
    assert len(hub[1]) == 1
    shutil.rmtree(dest / "class_it")
    F.fetch(["hub"], dest, manifest=mpath, revisions={"hub": "abc123"}, progress=False)
    assert hub[1][-1]["revision"] == "abc123"


def test_resume_after_a_cut_connection_and_from_a_part_file(tmp_path, server):
    serve_all(server)
    server.cut_once.add("/r1/data/big.bin")
    mpath, dest = write_manifest(tmp_path, server.url), tmp_path / "data"
    report = F.fetch(None, dest, manifest=mpath, only=["direct/big.bin"], timeout=FAST, progress=False)
    assert report.ok, report.errors
    gets = [r for p, r in server.log if p == "/r1/data/big.bin"]
    assert gets[0] is None and gets[1] == f"bytes={len(BIG) // 2}-"      # the second request continues
    assert (dest / "direct/big.bin").read_bytes() == BIG
    # a .part left by an earlier run is continued too
    dest2 = tmp_path / "data2"
    part = F.part_path(dest2, "direct", "direct/big.bin")
    part.parent.mkdir(parents=True)
    part.write_bytes(BIG[:1000])
    report = F.fetch(None, dest2, manifest=mpath, only=["direct/big.bin"], timeout=FAST, progress=False)
    assert report.ok and server.log[-1] == ("/r1/data/big.bin", "bytes=1000-")
    assert (dest2 / "direct/big.bin").read_bytes() == BIG and not part.exists()


def test_checksum_mismatch_is_one_line_and_removes_nothing_verified(tmp_path, server, capsys):
    serve_all(server)
    dest = tmp_path / "data"
    good = write_manifest(tmp_path, server.url)
    assert F.fetch(["corpus"], dest, manifest=good, timeout=FAST, progress=False).ok
    before = (dest / "babylm_corpus/train_x/a.train").stat().st_mtime_ns
    bad = write_manifest(tmp_path, server.url, small_sha=sha(b"something else"))
    rc = F.main(["fetch", "--only", "corpus", "direct/small.txt", "direct/big.bin", "--dest", str(dest),
                 "--manifest", str(bad), "--quiet", "--timeout", "2"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and len(err) == 1
    assert err[0].startswith("classit-data: error: direct/small.txt: sha256 ") and "expected sha256" in err[0]
    assert not (dest / "direct/small.txt").exists()
    assert not F.part_path(dest, "direct", "direct/small.txt").exists()    # a bad .part is not resumed
    assert (dest / "direct/big.bin").read_bytes() == BIG                  # the good file of that source stays
    assert (dest / "babylm_corpus/train_x/a.train").stat().st_mtime_ns == before   # verified: untouched


def test_404_is_one_line_naming_the_url(tmp_path, server, capsys):
    serve_all(server)
    extra = [{"path": "direct/missing.txt", "source": "direct", "sha256": sha(b"x"), "size": 1}]
    mpath, dest = write_manifest(tmp_path, server.url, extra=extra), tmp_path / "data"
    rc = F.main(["fetch", "--only", "direct/missing.txt", "--dest", str(dest), "--manifest", str(mpath), "--quiet"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and len(err) == 1
    assert f"{server.url}/r1/data/missing.txt: HTTP 404" in err[0]
    assert f"put the files in {dest}/direct/ by hand or use --from DIR" in err[0]


def test_a_server_that_never_answers_fails_fast(tmp_path, capsys):
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)                                   # connections complete in the backlog; nothing answers
    url = f"http://127.0.0.1:{mute.getsockname()[1]}/corpus.zip"
    mpath, dest = write_manifest(tmp_path, "http://unused.invalid", archive_url=url), tmp_path / "data"
    try:
        t = time.monotonic()
        rc = F.main(["fetch", "--only", "corpus", "--dest", str(dest), "--manifest", str(mpath), "--quiet",
                     "--timeout", "0.5"])
        elapsed = time.monotonic() - t
    finally:
        mute.close()
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and elapsed < 5
    assert err == [(f"classit-data: error: {url}: unreachable (timed out after 0.5 s); put the files in "
                    f"{dest}/babylm_corpus/train_x/ by hand or use --from DIR")]


def test_hub_offline_without_a_cache_fails_fast_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    mpath, dest = write_manifest(tmp_path, "http://unused.invalid"), tmp_path / "data"
    t = time.monotonic()
    rc = F.main(["fetch", "--only", "hub", "--dest", str(dest), "--manifest", str(mpath), "--quiet"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and time.monotonic() - t < 30 and len(err) == 1
    assert err[0].startswith("classit-data: error: org/CLASS_IT (HF dataset, revision main): ")
    assert "HF_HUB_OFFLINE" in err[0] and f"{dest}/class_it/switchboard/" in err[0]


# --------------------------------------------------------------------------- --from and check
def _source_layout(root: Path, with_archive: bool = False) -> Path:
    """A local copy laid out like the sources (a wrapper folder, the hub's config folders)."""
    files = {"data/big.bin": BIG, "data/small.txt": SMALL, "data/notes/a.md": b"# a",
             "hub/switchboard/train-00000-of-00001.parquet": SWB,
             "hub/simple_wiki/train-00000-of-00001.parquet": WIKI}
    if with_archive:
        files["downloads/corpus.zip"] = _zip({"w/train_x/a.train": A, "w/train_x/b.train": B})
    else:
        files.update({"BabyLM/train_x/a.train": A, "BabyLM/train_x/b.train": B})
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_from_a_folder_and_from_a_zip_make_no_network_call(tmp_path, server):
    mpath = write_manifest(tmp_path, server.url)
    src = _source_layout(tmp_path / "copy")
    report = F.fetch(None, tmp_path / "d1", manifest=mpath, from_path=src, progress=False)
    assert report.ok, report.errors
    assert set(statuses(report).values()) == {"verified", "size-only", "present"} and server.log == []
    zpath = tmp_path / "copy.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in src.rglob("*"):
            if f.is_file():
                z.write(f, "wrapped/" + f.relative_to(src).as_posix())
    report = F.fetch(None, tmp_path / "d2", manifest=mpath, from_path=zpath, progress=False)
    assert report.ok, report.errors
    assert (tmp_path / "d2/direct/notes/a.md").read_bytes() == b"# a"
    # a folder holding a source's own archive (corpus.zip) is read through it
    src3 = _source_layout(tmp_path / "copy3", with_archive=True)
    report = F.fetch(["corpus"], tmp_path / "d3", manifest=mpath, from_path=src3, progress=False)
    assert report.ok and (tmp_path / "d3/babylm_corpus/train_x/a.train").read_bytes() == A
    # the destination layout itself works as a local copy; what it lacks is named
    (tmp_path / "d1/direct/small.txt").unlink()
    report = F.fetch(None, tmp_path / "d4", manifest=mpath, from_path=tmp_path / "d1", progress=False)
    assert len(report.errors) == 1 and report.errors[0].startswith("direct/small.txt: not in ")
    assert server.log == []


def test_check_lists_verified_size_only_present_and_missing(tmp_path, server, hub, capsys):
    serve_all(server)
    mpath, dest = write_manifest(tmp_path, server.url), tmp_path / "data"
    F.fetch(["corpus", "hub"], dest, manifest=mpath, progress=False)
    (dest / "direct/notes").mkdir(parents=True)
    (dest / "direct/notes/x.md").write_text("x")
    (dest / "direct/small.txt").write_text("tampered\n")
    rc = F.main(["check", "--dest", str(dest), "--manifest", str(mpath)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "  verified  babylm_corpus/train_x/  (2 files)" in out
    assert "  size-only class_it/switchboard/  (1 file(s), total size and rows)" in out
    assert "  present   direct/notes/  (1 file(s))" in out
    assert "  missing   direct/big.bin" in out
    assert "  mismatch  direct/small.txt  (sha256 " in out
    assert "summary: 2 verified, 2 size-only, 1 present, 1 missing, 1 mismatch" in out
    assert "WARNING: 2 entries verified by size (and rows) only: no sha256 is known" in out
    assert "WARNING: 1 entry NOT verified at all: no sha256 or size is known: direct/notes/" in out
    assert F.check(None, dest, manifest=mpath, only=["corpus"]).ok


# --------------------------------------------------------------------------- the real data
@pytest.mark.realdata
def test_fetch_small_from_the_shared_data_then_check_verifies_it(data_root, tmp_path, capsys):
    dest = tmp_path / "data"
    rc = F.main(["fetch", "--profile", "small", "--from", str(data_root), "--dest", str(dest), "--quiet"])
    capsys.readouterr()
    report = F.check("small", dest)
    st = statuses(report)
    # what the shared copy lacks (absent from every snapshot, shared/data/README.md) is named, nothing else
    lacking = {"glue_filtered/boolq.train.jsonl", "glue_filtered/multirc.train.jsonl", "wug_past_tense/",
               "comps/comps_base.jsonl", "comps/comps_wugs.jsonl", "comps/comps_wugs_dist-before.jsonl",
               "comps/comps_wugs_dist-in-between.jsonl"}
    assert rc == 1 and {p for p, s in st.items() if s == "missing"} == lacking
    assert {s for p, s in st.items() if p not in lacking} == {"verified"} and len(st) > 1200
    assert (dest / "ewok.zip").read_bytes() == (data_root / "ewok.zip").read_bytes()
    assert F.main(["check", "--profile", "small", "--dest", str(dest), "--only", "swda", "blimp_fast",
                   "babylm_corpus"]) == 0
    assert "summary: 1230 verified, 0 size-only, 0 present, 0 missing, 0 mismatch" in capsys.readouterr().out


def test_a_profile_without_its_data_stops_before_any_compute_naming_the_folder(tmp_path, monkeypatch, capsys):
    """`make reproduce PROFILE=paper` on a machine without the data: one line, the first missing folder and the
    command that fetches it, and nothing written under runs/."""
    from classit_utils import pipeline
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("CLASSIT_DATA", str(empty))
    runs = tmp_path / "runs"
    for profile, first in (("paper", "corpus.path: {d}/babylm_corpus/train_100M"),
                           ("small", "corpus.path: {d}/babylm_corpus/moritzlad_samples_train_600k")):
        params = tmp_path / f"{profile}.yaml"
        params.write_text((pipeline.REPO_ROOT / "params" / f"{profile}.yaml").read_text()
                          + f"\nrun_root: {runs}\nfigures_root: {tmp_path / 'figures'}\n")
        assert pipeline.main(["run", "--profile", profile, "--params", str(params)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: {params}: {first.format(d=empty)} does not exist; fetch it with "
                       f"`classit-data fetch --profile {params}` or put it there by hand"]
    assert not runs.exists()
    # the corpus in place, the released IT pairs are the next thing missing (the paper tunes on them)
    (empty / "babylm_corpus" / "train_100M").mkdir(parents=True)
    params = tmp_path / "paper.yaml"
    assert pipeline.main(["run", "--profile", "paper", "--params", str(params)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {params}: instruct.class_it: {empty}/class_it does not exist")
    # the default params file names the profile in the command
    from classit_utils.config import load_config
    from classit_utils.datastage import preflight
    from classit_utils.errors import DataError
    cfg = load_config(pipeline.REPO_ROOT / "params" / "paper.yaml")
    with pytest.raises(DataError, match=r"class_it does not exist; fetch it with `classit-data fetch --profile paper`"):
        preflight(cfg, "params/paper.yaml", stages=pipeline.STAGES, fetch_as="paper")
