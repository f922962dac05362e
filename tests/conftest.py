"""Shared test set-up."""

from __future__ import annotations

import os

import pytest

# Qt widgets render offscreen: CI has no display, and no window pops up on a developer's.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _no_real_ollama(monkeypatch):
    """Tests never reach an Ollama the developer happens to run: the default host is a closed
    port (connections refused at once). Tests of the Ollama planner start their own fake
    server and name it (or set OLLAMA_HOST themselves)."""
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")


@pytest.fixture(autouse=True)
def _no_real_resolve_bridge(monkeypatch, tmp_path_factory):
    """Tests never find (or write) a bridge file of a Resolve the developer happens to run:
    the bridge file lives in a fresh temporary folder."""
    folder = tmp_path_factory.mktemp("bridge-file")
    monkeypatch.setenv("MONTAGE_AI_RESOLVE_BRIDGE_FILE", str(folder / "resolve-bridge.json"))


@pytest.fixture(autouse=True)
def _no_real_user_data(monkeypatch, tmp_path_factory):
    """Tests never read or write the developer's kept beat grids (user data folder)."""
    monkeypatch.setenv("MONTAGE_AI_DATA", str(tmp_path_factory.mktemp("user-data")))
    """Tests never write into the developer's user data folder (platformdirs reads
    XDG_DATA_HOME on Linux): the Resolve log journal and the like go to a fresh folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("user-data")))
