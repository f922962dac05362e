"""Encoder registry: exact ffmpeg arguments per encoder and profile, listing, trials, auto-selection."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import pytest

from montage_ai.core.render import encoders
from montage_ai.core.render.encoders import (
    PROFILES,
    EncoderError,
    EncoderRegistry,
    get_profile,
    parse_encoders,
    preference,
    proxy_args,
    proxy_size,
)

NTSC = Fraction(24000, 1001)

# Expected video arguments for every encoder kind and codec family (rate 24000/1001: GOP 24).
VIDEO_ARGS = {
    ("cpu", "h264"): ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "24"],
    ("cpu", "hevc"): ["-c:v", "libx265", "-preset", "fast", "-crf", "26", "-x265-params", "log-level=error",
                      "-pix_fmt", "yuv420p", "-g", "24", "-tag:v", "hvc1"],
    ("cpu", "prores"): ["-c:v", "prores_ks", "-profile:v", "0", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"],
    ("cpu", "dnxhr"): ["-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"],
    ("nvenc", "h264"): ["-c:v", "h264_nvenc", "-preset", "p4", "-rc", "vbr", "-cq", "25", "-b:v", "0",
                        "-pix_fmt", "yuv420p", "-g", "24"],
    ("nvenc", "hevc"): ["-c:v", "hevc_nvenc", "-preset", "p4", "-rc", "vbr", "-cq", "25", "-b:v", "0",
                        "-pix_fmt", "yuv420p", "-g", "24", "-tag:v", "hvc1"],
    ("vaapi", "h264"): ["-c:v", "h264_vaapi", "-rc_mode", "CQP", "-qp", "25", "-g", "24"],
    ("vaapi", "hevc"): ["-c:v", "hevc_vaapi", "-rc_mode", "CQP", "-qp", "25", "-g", "24", "-tag:v", "hvc1"],
    ("qsv", "h264"): ["-c:v", "h264_qsv", "-preset", "faster", "-global_quality", "25", "-g", "24"],
    ("qsv", "hevc"): ["-c:v", "hevc_qsv", "-preset", "faster", "-global_quality", "25", "-g", "24", "-tag:v", "hvc1"],
    ("videotoolbox", "h264"): ["-c:v", "h264_videotoolbox", "-q:v", "60", "-pix_fmt", "nv12", "-g", "24"],
    ("videotoolbox", "hevc"): ["-c:v", "hevc_videotoolbox", "-q:v", "60", "-pix_fmt", "nv12", "-g", "24",
                               "-tag:v", "hvc1"],
}
INPUT_ARGS = {
    "cpu": ["-hwaccel", "auto"],
    "nvenc": ["-hwaccel", "cuda"],
    "vaapi": ["-vaapi_device", "/dev/dri/renderD128", "-hwaccel", "vaapi"],
    "qsv": ["-init_hw_device", "qsv=qsv", "-filter_hw_device", "qsv", "-hwaccel", "auto"],
    "videotoolbox": ["-hwaccel", "videotoolbox"],
}
FILTERS = {"cpu": "scale={w}:{h}:flags=bicubic", "nvenc": "scale={w}:{h}:flags=bicubic",
           "videotoolbox": "scale={w}:{h}:flags=bicubic", "vaapi": "scale={w}:{h}:flags=bicubic,format=nv12,hwupload",
           "qsv": "scale={w}:{h}:flags=bicubic,format=nv12"}
SIZES = {"half": (960, 540), "quarter": (480, 270)}
AUDIO = {"mp4": ["-c:a", "aac", "-b:a", "192k"], "mov": ["-c:a", "pcm_s16le"]}


def combos():
    for profile in PROFILES.values():
        kinds = encoders.ENCODER_KINDS if profile.hardware_capable else ("cpu",)
        for kind in kinds:
            yield kind, profile.name


@pytest.mark.parametrize("kind,profile_name", list(combos()))
def test_proxy_command_is_exact_for_every_encoder_and_profile(kind, profile_name, monkeypatch):
    monkeypatch.delenv("MONTAGE_AI_VAAPI_DEVICE", raising=False)
    profile = get_profile(profile_name)
    w, h = SIZES[profile_name.rsplit("-", 1)[1]]
    args = proxy_args("/in/A001.mov", "/out/.A001.part.x", width=1920, height=1080, rate=NTSC, has_audio=True,
                      timecode="01:00:00:00", profile=profile, kind=kind, metadata={"comment": "tag"})
    expected = (["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1", "-y"]
                + INPUT_ARGS[kind]
                + ["-i", "/in/A001.mov", "-map", "0:v:0", "-map", "0:a", "-map_metadata", "0", "-map_chapters", "-1",
                   "-vf", FILTERS[kind].format(w=w, h=h), "-fps_mode", "passthrough"]
                + VIDEO_ARGS[(kind, profile.codec)] + AUDIO[profile.container]
                + ["-timecode", "01:00:00:00", "-metadata", "comment=tag",
                   "-f", profile.container, "/out/.A001.part.x"])
    assert args == expected


def test_no_audio_and_no_timecode_leave_their_options_out():
    args = proxy_args("a.mov", "p.mov", width=1280, height=720, rate=Fraction(25), has_audio=False, timecode=None,
                      profile=get_profile("dnxhr-lb-quarter"), kind="cpu", hwdecode=False)
    assert "0:a" not in args and "-c:a" not in args and "-timecode" not in args and "-hwaccel" not in args
    assert args[args.index("-vf") + 1] == "scale=320:180:flags=bicubic"


def test_hardware_encoders_are_refused_for_prores_and_dnxhr():
    with pytest.raises(EncoderError, match="prores cannot be encoded with nvenc"):
        proxy_args("a.mov", "p.mov", width=1920, height=1080, rate=Fraction(25), has_audio=False, timecode=None,
                   profile=get_profile("prores-proxy-half"), kind="nvenc")


@pytest.mark.parametrize("size,profile,expected", [
    ((1920, 1080), "h264-half", (960, 540)), ((1920, 1080), "h264-quarter", (480, 270)),
    ((1366, 768), "h264-quarter", (342, 192)), ((4096, 2160), "dnxhr-lb-half", (2048, 1080)),
    ((2, 2), "h264-quarter", (2, 2)),
])
def test_proxy_size_is_scaled_and_even(size, profile, expected):
    assert proxy_size(*size, get_profile(profile)) == expected


def test_encoders_listing_is_parsed_after_the_legend():
    text = """Encoders:
 V..... = Video
 A..... = Audio
 ------
 V....D libx264              libx264 H.264 / AVC
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 A..... aac                  AAC (Advanced Audio Coding)
"""
    assert parse_encoders(text) == {"libx264", "h264_nvenc", "aac"}


def test_preference_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv("FFMPEG_HWACCEL", "VAAPI")
    assert preference() == "vaapi"
    assert preference("cpu") == "cpu"
    monkeypatch.setenv("FFMPEG_HWACCEL", "cuda")
    with pytest.raises(EncoderError, match="FFMPEG_HWACCEL='cuda' is not an encoder"):
        preference()


class FakeFFmpeg:
    """Answers like ffmpeg: a listing, a version, and trial encodes that work only for ``working``."""

    def __init__(self, listed: set[str], working: set[str]) -> None:
        self.listed, self.working, self.trials = listed, working, []

    def __call__(self, cmd, timeout):
        if "-version" in cmd:
            return subprocess.CompletedProcess(cmd, 0, "ffmpeg version 9.9-fake\n", "")
        if "-encoders" in cmd:
            lines = "".join(f" V....D {name:20s} fake\n" for name in sorted(self.listed))
            return subprocess.CompletedProcess(cmd, 0, " ------\n" + lines, "")
        encoder = cmd[cmd.index("-c:v") + 1]
        self.trials.append(encoder)
        if encoder in self.working:
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return subprocess.CompletedProcess(cmd, 1, "", "[h264_nvenc] Cannot load libcuda.so.1\nConversion failed!\n")


def test_auto_falls_back_when_a_listed_encoder_fails_its_trial(tmp_path):
    fake = FakeFFmpeg({"h264_nvenc", "h264_vaapi", "libx264"}, working={"h264_vaapi", "libx264"})
    reg = EncoderRegistry(ffmpeg="ffmpeg", cache_path=tmp_path / "enc.json", runner=fake)
    chosen = reg.select("h264", "auto")
    assert (chosen.kind, chosen.encoder) == ("vaapi", "h264_vaapi")
    assert fake.trials == ["h264_nvenc", "h264_vaapi"]  # qsv is not listed: never tried
    assert "Cannot load libcuda.so.1" in reg.verdict("nvenc", "h264").reason


def test_verdicts_are_cached_per_ffmpeg_and_rechecked_on_request(tmp_path):
    fake = FakeFFmpeg({"h264_nvenc", "libx264"}, working={"libx264"})
    EncoderRegistry(ffmpeg="ffmpeg", cache_path=tmp_path / "enc.json", runner=fake).select("h264")
    again = EncoderRegistry(ffmpeg="ffmpeg", cache_path=tmp_path / "enc.json", runner=fake)
    assert again.select("h264").encoder == "libx264"
    assert fake.trials == ["h264_nvenc", "libx264"]  # the second registry ran no trial
    again.verdict("nvenc", "h264", refresh=True)
    assert fake.trials[-1] == "h264_nvenc"


def test_a_named_encoder_that_fails_is_an_error_naming_the_reason(tmp_path):
    fake = FakeFFmpeg({"h264_nvenc", "libx264"}, working={"libx264"})
    reg = EncoderRegistry(ffmpeg="ffmpeg", cache_path=tmp_path / "enc.json", runner=fake)
    with pytest.raises(EncoderError, match="h264_nvenc: .*Cannot load libcuda"):
        reg.select("h264", "nvenc")
    with pytest.raises(EncoderError, match="h264_qsv is not in this ffmpeg build"):
        reg.select("h264", "qsv")


def test_prores_always_uses_the_cpu(tmp_path):
    fake = FakeFFmpeg({"h264_nvenc", "prores_ks"}, working={"h264_nvenc", "prores_ks"})
    reg = EncoderRegistry(ffmpeg="ffmpeg", cache_path=tmp_path / "enc.json", runner=fake)
    assert reg.select("prores", "nvenc").encoder == "prores_ks"


def test_real_ffmpeg_auto_choice_is_an_encoder_that_really_encodes(tmp_path):
    # The local ffmpeg may list NVENC/VAAPI/QSV without any device: auto must prove its choice.
    reg = EncoderRegistry(cache_path=tmp_path / "enc.json")
    chosen = reg.select("h264", "auto")
    assert chosen.works
    earlier = encoders.ENCODER_KINDS[:encoders.ENCODER_KINDS.index(chosen.kind)]
    for kind in earlier:  # every kind auto tried before its choice failed, with a reason
        v = reg.verdict(kind, "h264")
        assert not v.works and v.reason
    proc = subprocess.run(["ffmpeg"] + encoders.trial_args(chosen.kind, "h264"), capture_output=True)
    assert proc.returncode == 0
