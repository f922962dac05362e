"""`montage-ai doctor` and `montage-ai resolve status` show the route into Resolve."""

from __future__ import annotations

import os
import sys

import pytest

import __main__
from bridge_harness import BridgeProcess
from fake_ollama import closed_port_host
from fake_resolve import make_resolve
from montage_ai.resolve_plugin.connect import MODULE
from montage_ai.ui.cli.doctor import CHECKS, check_resolve
from montage_ai.ui.cli.main import main


@pytest.fixture(autouse=True)
def outside_resolve(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.setattr(__main__, "resolve", None, raising=False)
    monkeypatch.delattr(__main__, "resolve")
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(tmp_path / "no-resolve"))


def test_the_resolve_check_is_registered():
    assert check_resolve in CHECKS


def test_doctor_shows_the_bridge_route_product_and_menu_python(capsys):
    fake = make_resolve({}, product="DaVinci Resolve")
    process = BridgeProcess(fake, "python", os.environ["MONTAGE_AI_RESOLVE_BRIDGE_FILE"]).wait_ready()
    try:
        assert main(["doctor", "--ollama-host", closed_port_host()]) == 0
        text = capsys.readouterr().out
    finally:
        process.close()
    assert "ok   resolve  route in use: bridge-python (DaVinci Resolve 19.1.3.7)" in text
    assert f"Python for Resolve's menu scripts: {sys.executable}" in text
    assert "external: no (module-missing)" in text and "bridge: ok: python bridge, process" in text
    assert "note: the free edition on Linux does not decode H.264/H.265" in text


def test_doctor_without_resolve_names_each_cause_and_stays_optional(capsys):
    assert main(["doctor", "--ollama-host", closed_port_host()]) == 0  # Resolve is optional
    out = capsys.readouterr().out
    assert "--   resolve  route in use: file (Resolve not reached)" in out
    assert "bridge: no (not-started)" in out and "external: no (module-missing)" in out
    assert "fix: install DaVinci Resolve on this machine" in out


def test_resolve_status_exits_1_without_a_live_route(capsys):
    assert main(["resolve", "status"]) == 1
    assert capsys.readouterr().out.startswith("route in use: file")
