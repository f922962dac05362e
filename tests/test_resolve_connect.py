"""Connecting to Resolve: the injected object, DaVinciResolveScript from each OS's paths,
and a diagnosis that says why not."""

from __future__ import annotations

import struct
import sys
import textwrap

import pytest

import __main__
from fake_resolve import Behaviour, make_resolve
from montage_ai.resolve_plugin import connect as connect_module
from montage_ai.resolve_plugin.connect import (
    MODULE,
    connect,
    library_architectures,
    python_architecture,
    script_locations,
)
from montage_ai.resolve_plugin.direct import DirectClient
from montage_ai.resolve_plugin.errors import ResolveNotConnected


@pytest.fixture(autouse=True)
def clean_module(monkeypatch):
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    # set, then delete: monkeypatch restores only what it saw, and load_module sets the variable
    monkeypatch.setattr(__main__, "resolve", None, raising=False)
    monkeypatch.delattr(__main__, "resolve")
    monkeypatch.setenv("RESOLVE_SCRIPT_LIB", "")
    monkeypatch.delenv("RESOLVE_SCRIPT_LIB")
    yield
    sys.modules.pop(MODULE, None)


def _stand_in(tmp_path, body: str):
    """A DaVinciResolveScript stand-in in <api>/Modules (the real one ships with Resolve)."""
    modules = tmp_path / "Scripting" / "Modules"
    modules.mkdir(parents=True)
    (modules / f"{MODULE}.py").write_text(textwrap.dedent(body))
    return {"RESOLVE_SCRIPT_API": str(tmp_path / "Scripting"), "RESOLVE_SCRIPT_LIB": str(tmp_path / "fusionscript.so")}


def test_default_locations_per_os():
    mac = script_locations("Darwin", {})
    assert mac[0].api == "/Library/Application Support/Blackmagic Design/DaVinci Resolve/Developer/Scripting"
    assert mac[0].lib.endswith("DaVinci Resolve.app/Contents/Libraries/Fusion/fusionscript.so")
    win = script_locations("Windows", {"PROGRAMDATA": r"D:\Data"})
    assert win[0].api == r"D:\Data\Blackmagic Design\DaVinci Resolve\Support\Developer\Scripting"
    assert win[0].module_dir("Windows") == win[0].api + r"\Modules"
    assert win[0].lib == r"C:\Program Files\Blackmagic Design\DaVinci Resolve\fusionscript.dll"
    linux = script_locations("Linux", {})
    assert [loc.api for loc in linux] == ["/opt/resolve/Developer/Scripting", "/home/resolve/Developer/Scripting"]
    assert linux[0].lib == "/opt/resolve/libs/Fusion/fusionscript.so"


def test_environment_variables_come_first():
    found = script_locations("Linux", {"RESOLVE_SCRIPT_API": "/x/api", "RESOLVE_SCRIPT_LIB": "/x/fusionscript.so"})
    assert (found[0].api, found[0].lib, found[0].origin) == ("/x/api", "/x/fusionscript.so", "$RESOLVE_SCRIPT_API")
    assert found[1].api == "/opt/resolve/Developer/Scripting"


def test_the_injected_resolve_object_is_used(monkeypatch):
    resolve = make_resolve({})
    monkeypatch.setattr(__main__, "resolve", resolve, raising=False)
    client = connect(env={})
    assert isinstance(client, DirectClient) and client.product().name == "DaVinci Resolve Studio"


def test_missing_module_lists_every_place_looked(tmp_path):
    with pytest.raises(ResolveNotConnected) as info:
        connect(system="Linux", env={"RESOLVE_SCRIPT_API": str(tmp_path / "nowhere")})
    text = str(info.value)
    assert f"{tmp_path / 'nowhere' / 'Modules'} ($RESOLVE_SCRIPT_API)" in text
    assert "/opt/resolve/Developer/Scripting/Modules (Linux default)" in text
    assert "Workspace > Scripts > Utility > Montage AI" in text


def test_scriptapp_through_the_module_connects(tmp_path):
    env = _stand_in(tmp_path, """
        import fake_resolve
        _resolve = fake_resolve.make_resolve({})
        def scriptapp(app, *host):
            return _resolve if app == "Resolve" else None
    """)
    client = connect(system="Linux", env=env)
    assert client.project().name == "Fake project"


def test_resolve_not_running_is_said_plainly(tmp_path):
    env = _stand_in(tmp_path, "def scriptapp(app, *host):\n    return None\n")
    with pytest.raises(ResolveNotConnected, match="DaVinci Resolve is not running") as info:
        connect(system="Linux", env=env, running=lambda: False)
    assert "start DaVinci Resolve and open a project" in str(info.value)


def test_running_resolve_refusing_names_preferences_and_the_free_edition(tmp_path):
    env = _stand_in(tmp_path, "def scriptapp(app, *host):\n    return None\n")
    with pytest.raises(ResolveNotConnected, match="did not accept the connection") as info:
        connect(system="Linux", env=env, running=lambda: True)
    text = str(info.value)
    assert "External scripting using: Local" in text and "free edition" in text
    assert python_architecture() in text


def test_scriptapp_that_hangs_is_bounded(tmp_path):
    env = _stand_in(tmp_path, "import time\ndef scriptapp(app, *host):\n    time.sleep(5)\n")
    with pytest.raises(ResolveNotConnected, match=r"did not answer within 0.2 s"):
        connect(system="Linux", env=env, running=lambda: None, timeout_s=0.2)


def test_a_module_that_exits_when_fusionscript_fails_is_reported(tmp_path):
    env = _stand_in(tmp_path, "import sys\nprint('Unable to find module fusionscript')\nsys.exit()\n")
    with pytest.raises(ResolveNotConnected, match="did not load: SystemExit"):
        connect(system="Linux", env=env)


def _elf(machine: int) -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HH", 3, machine) + b"\0" * 64


def test_a_fusionscript_for_another_cpu_is_diagnosed(tmp_path, monkeypatch):
    env = _stand_in(tmp_path, "def scriptapp(app, *host):\n    return None\n")
    (tmp_path / "fusionscript.so").write_bytes(_elf(0xB7))  # arm64
    monkeypatch.setattr(connect_module, "python_architecture", lambda: "x86_64")
    with pytest.raises(ResolveNotConnected, match="built for arm64, this Python .* for x86_64"):
        connect(system="Linux", env=env)


def test_library_architectures_read_elf_macho_and_pe(tmp_path):
    elf = tmp_path / "a.so"
    elf.write_bytes(_elf(0x3E))
    fat = tmp_path / "b.so"
    fat.write_bytes(b"\xca\xfe\xba\xbe" + struct.pack(">I", 2) + struct.pack(">IIIII", 0x01000007, 3, 0, 0, 0)
                    + struct.pack(">IIIII", 0x0100000C, 0, 0, 0, 0))
    pe = tmp_path / "c.dll"
    pe.write_bytes(b"MZ" + b"\0" * 58 + struct.pack("<I", 64) + b"PE\0\0" + struct.pack("<H", 0x8664) + b"\0" * 32)
    assert library_architectures(str(elf)) == {"x86_64"}
    assert library_architectures(str(fat)) == {"x86_64", "arm64"}
    assert library_architectures(str(pe)) == {"x86_64"}
    assert library_architectures(str(tmp_path / "missing.so")) == set()


def test_not_scriptable_fake_behaves_like_the_free_edition(tmp_path):
    env = _stand_in(tmp_path, """
        import fake_resolve
        _resolve = fake_resolve.make_resolve({}, behaviour=fake_resolve.Behaviour(scriptable=False),
                                             product="DaVinci Resolve")
        scriptapp = fake_resolve.scriptapp_for(_resolve)
    """)
    with pytest.raises(ResolveNotConnected, match="free edition"):
        connect(system="Linux", env=env, running=lambda: True)
    assert Behaviour().scriptable
