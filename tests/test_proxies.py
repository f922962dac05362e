"""Proxies: frame-exact CPU encodes beside the media, skipped when current, never clobbering, CPU retry."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from fractions import Fraction

import pytest

from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.base.fileio import OutputExistsError, collect_media
from montage_ai.core.media.decode import decode_frames
from montage_ai.core.media.probe import probe
from montage_ai.core.render.encoders import EncoderRegistry, get_profile, proxy_size
from montage_ai.core.render.proxies import encode_proxy, make_proxies, proxy_links, proxy_path, proxy_state
from montage_ai.core.samples.framecode import read_framecode, render_framecode

NTSC = Fraction(30000, 1001)


def add_audio(video, out):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(video), "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=48000", "-map", "0:v:0", "-map", "1:a", "-shortest",
                    "-c:v", "libx264", "-crf", "18", "-g", "15", "-c:a", "pcm_s16le", "-timecode", "10:00:00;00",
                    str(out)], check=True)
    assert probe(out).start_timecode == "10:00:00;00"
    return out


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    d = tmp_path_factory.mktemp("footage")
    silent = render_framecode(d / "silent.mov", 45, rate=NTSC, size=(640, 360), start_timecode="10:00:00;00")
    path = add_audio(silent, d / "A001.mov")
    os.unlink(silent)
    return path


@pytest.fixture
def registry(tmp_path):
    return EncoderRegistry(cache_path=tmp_path / "encoders.json")


@pytest.mark.parametrize("profile", ["h264-half", "prores-proxy-quarter", "dnxhr-lb-half"])
def test_cpu_proxy_conforms_frame_for_frame(source, tmp_path, registry, profile):
    result = encode_proxy(source, profile=profile, encoder="cpu", out_dir=tmp_path / "px", registry=registry)
    src, px = probe(source), probe(result.proxy)
    assert (px.video.frame_count, px.video.rate, px.start_timecode) == (45, NTSC, "10:00:00;00")
    assert (px.video.width, px.video.height) == proxy_size(640, 360, get_profile(profile))
    assert [a.sample_rate for a in px.audio] == [a.sample_rate for a in src.audio]
    shown = [read_framecode(f.image) for f in decode_frames(result.proxy, width=128, hwaccel=None)]
    assert shown == list(range(45))  # every frame, in order, none doubled or dropped


def test_too_small_for_dnxhr_is_refused_with_the_reason(source, tmp_path, registry):
    with pytest.raises(MediaError, match=r"A001.mov: a dnxhr-lb-quarter proxy would be 160x90; dnxhr needs at least 256x120"):
        encode_proxy(source, profile="dnxhr-lb-quarter", encoder="cpu", out_dir=tmp_path, registry=registry)


def test_proxy_goes_into_a_proxy_folder_under_the_source_name(source, registry):
    result = encode_proxy(source, profile="h264-quarter", encoder="cpu", registry=registry)
    try:
        assert result.proxy == str(source.parent / "Proxy" / "A001.mp4")
        assert not [n for n in os.listdir(source.parent / "Proxy") if n.startswith(".")]  # no temporary left
        assert collect_media([str(source.parent)]) == [str(source)]  # proxies are not taken for footage
    finally:
        os.unlink(result.proxy)


def test_up_to_date_proxy_is_skipped_and_a_changed_source_gets_a_new_one(source, tmp_path, registry):
    src = tmp_path / "B.mov"
    src.write_bytes(source.read_bytes())
    first = encode_proxy(src, profile="h264-quarter", encoder="cpu", registry=registry)
    again = encode_proxy(src, profile="h264-quarter", encoder="cpu", registry=registry)
    assert not first.skipped and again.skipped and again.encoder is None
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    assert proxy_state(src, first.proxy, get_profile("h264-quarter")) == "stale"
    assert not encode_proxy(src, profile="h264-quarter", encoder="cpu", registry=registry).skipped


def test_a_file_we_did_not_write_is_never_replaced_without_force(source, tmp_path, registry):
    target = proxy_path(source, get_profile("h264-quarter"), tmp_path)
    target.write_bytes(b"the editor's own file")
    with pytest.raises(OutputExistsError):
        encode_proxy(source, profile="h264-quarter", encoder="cpu", out_dir=tmp_path, registry=registry)
    assert target.read_bytes() == b"the editor's own file"
    encode_proxy(source, profile="h264-quarter", encoder="cpu", out_dir=tmp_path, registry=registry, force=True)
    assert probe(target).video.frame_count == 45


def test_cancel_kills_ffmpeg_and_leaves_no_file(source, tmp_path, registry):
    stop = threading.Event()
    with pytest.raises(Cancelled):
        encode_proxy(source, profile="hevc-half", encoder="cpu", out_dir=tmp_path, registry=registry,
                     progress=lambda f: stop.set(), cancel=stop.is_set)
    assert not [n for n in os.listdir(tmp_path) if not n.startswith("encoders.json")]


class ClaimsNvencWorks(EncoderRegistry):
    """A registry whose trial says NVENC works here; the real encode then fails (no device)."""

    def verdict(self, kind, codec, *, refresh=False):
        v = super().verdict("cpu", codec)
        if kind == "nvenc":
            return type(v)("nvenc", codec, "h264_nvenc", listed=True, works=True)
        return v


def test_hardware_failure_mid_job_is_retried_on_the_cpu_and_said(source, tmp_path):
    reg = ClaimsNvencWorks(cache_path=tmp_path / "encoders.json")
    if shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi"], capture_output=True).returncode == 0:
        pytest.skip("this machine has an NVIDIA GPU: NVENC may really work")
    result = encode_proxy(source, profile="h264-quarter", encoder="nvenc", out_dir=tmp_path / "px", registry=reg)
    assert result.encoder == "libx264"
    assert result.note.startswith("h264_nvenc failed (") and result.note.endswith("encoded on the CPU instead")
    assert probe(result.proxy).video.frame_count == 45


def test_many_files_bad_one_reported_links_for_resolve(source, tmp_path, monkeypatch):
    monkeypatch.setenv("MONTAGE_AI_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "broken.mov"
    bad.write_bytes(source.read_bytes()[:3000])
    twin = tmp_path / "A001.mp4"  # would share the proxy name A001 with the source
    twin.write_bytes(source.read_bytes())
    events = []
    report = make_proxies([str(source), str(bad), str(twin)], profile="h264-quarter", encoder="cpu",
                          out_dir=tmp_path / "px", progress=events.append)
    assert [r.source for r in report.results] == [str(source)]
    assert [p for p, _ in report.failures] == [str(bad), str(twin)]
    assert "same name" in report.failures[1][1]
    assert events[-1].done == events[-1].total == 2
    links = proxy_links([str(source), str(bad)], out_dir=tmp_path / "px")
    assert links == {str(source): str(tmp_path / "px" / "A001.mp4")}


def test_hardware_decoding_failure_is_retried_in_software_and_said(source, tmp_path, registry, monkeypatch):
    from montage_ai.core.render import encoders

    monkeypatch.setitem(encoders.DECODE_HWACCEL, "cpu", "no_such_hwaccel")  # ffmpeg refuses it at start
    result = encode_proxy(source, profile="h264-quarter", encoder="cpu", out_dir=tmp_path / "px", registry=registry)
    assert result.note.startswith("hardware-assisted decoding failed (") and "no_such_hwaccel" in result.note
    assert probe(result.proxy).video.frame_count == 45


def test_truncated_source_is_refused_with_the_reason_and_no_proxy(source, tmp_path, registry):
    whole = tmp_path / "whole.mov"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), "-c", "copy", "-movflags", "+faststart", str(whole)],
                   check=True)
    cut = tmp_path / "cut.mov"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])  # the index survives, the last frames do not
    with pytest.raises(MediaError, match=r"cut.mov: file is truncated"):
        encode_proxy(cut, profile="h264-quarter", encoder="cpu", out_dir=tmp_path / "px", registry=registry)
    assert not (tmp_path / "px").exists() or not os.listdir(tmp_path / "px")
