"""Shared test set-up."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_real_ollama(monkeypatch):
    """Tests never reach an Ollama the developer happens to run: the default host is a closed
    port (connections refused at once). Tests of the Ollama planner start their own fake
    server and name it (or set OLLAMA_HOST themselves)."""
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
