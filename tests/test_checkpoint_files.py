"""Folders published in one rename (nagui.checkpoint_files.published_folder)."""
import pytest

from nagui.checkpoint_files import published_folder, sha256_of


def test_a_folder_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "deep" / "pkg"
    with published_folder(target) as staged:
        (staged.path / "a.txt").write_text("one")
        assert not target.exists()                  # nothing is visible while it is built
    assert staged.published and (target / "a.txt").read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["pkg"]   # no stage left behind

    with pytest.raises(RuntimeError, match="half-built"):
        with published_folder(tmp_path / "broken") as staged:
            (staged.path / "a.txt").write_text("half")
            raise RuntimeError("half-built")
    assert not (tmp_path / "broken").exists() and not staged.path.exists()


def test_a_second_publisher_keeps_the_first_unless_it_replaces(tmp_path):
    target = tmp_path / "pkg"
    with published_folder(target) as first:
        (first.path / "v").write_text("1")
    with published_folder(target) as second:       # another process got there first: its copy stands
        (second.path / "v").write_text("2")
    assert first.published and not second.published and (target / "v").read_text() == "1"
    with published_folder(target, replace=True) as third:
        (third.path / "v").write_text("3")
    assert third.published and (target / "v").read_text() == "3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]
    # a target that is there but not what `present` asks for is an error, not a silent skip
    with pytest.raises(OSError):
        with published_folder(target, present=lambda t: (t / "DONE").is_file()) as staged:
            (staged.path / "v").write_text("4")
    assert (target / "v").read_text() == "3"


def test_sha256_of_matches_hashlib(tmp_path):
    import hashlib

    f = tmp_path / "blob"
    f.write_bytes(b"x" * (3 << 20) + b"tail")      # more than one read chunk
    assert sha256_of(f) == hashlib.sha256(f.read_bytes()).hexdigest()
