"""Atomic writes: outputs follow the user's umask (not the 0600 of a temporary file), a
replaced file keeps its mode, and nothing is ever left half-written."""

from __future__ import annotations

import os
import stat

import pytest

from montage_ai.core.base.fileio import publish, write_atomic

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    os.umask(old)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)])
def test_a_new_output_follows_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    path = write_atomic(tmp_path / "cut.fcpxml", "<fcpxml/>")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["cut.fcpxml"]


def test_a_replaced_output_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "cut.edl"
    path.write_text("old")
    os.chmod(path, 0o660)
    write_atomic(path, "new", overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o660 and path.read_text() == "new"


def test_a_published_render_follows_the_umask(tmp_path, umask):
    """Previews and proxies are rendered into a 0600 temporary file and published."""
    umask(0o022)
    tmp = tmp_path / ".x.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    publish(tmp, tmp_path / "preview.mp4")
    assert stat.S_IMODE((tmp_path / "preview.mp4").stat().st_mode) == 0o644


def test_the_umask_is_read_without_changing_it(umask):
    from montage_ai.core.base.fileio import current_umask

    umask(0o027)
    assert current_umask() == 0o027 and current_umask() == 0o027


def test_symlinked_folders_are_searched_and_loops_or_unreadable_ones_are_said(tmp_path, caplog):
    from montage_ai.core.base.fileio import collect_media

    media = tmp_path / "media"
    (media / "day1").mkdir(parents=True)
    (media / "day1" / "a.mp4").write_bytes(b"x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.mov").write_bytes(b"x")
    (media / "linked").symlink_to(elsewhere)
    (media / "day1" / "loop").symlink_to(media)
    locked = media / "locked"
    locked.mkdir()
    (locked / "c.mp4").write_bytes(b"x")
    os.chmod(locked, 0)
    skipped: list = []
    try:
        found = collect_media([str(media)], skipped=skipped)
    finally:
        os.chmod(locked, 0o755)
    assert str(media / "day1" / "a.mp4") in found and str(media / "linked" / "b.mov") in found
    reasons = dict(skipped)
    assert "symbolic link loop" in reasons[str(media / "day1" / "loop")]
    if os.geteuid() != 0:  # root reads any folder
        assert "cannot be read" in reasons[str(locked)]
    assert caplog.text.count("symbolic link loop") == 1
