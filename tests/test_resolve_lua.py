"""The Lua bridge's own SHA-256, HMAC-SHA256 and JSON (Resolve's Lua has no crypto and no
JSON), checked against Python's hashlib, hmac and json with Debian's luajit."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import subprocess

import pytest

from bridge_harness import HERE, LUA_BRIDGE, LUAJIT, NO_LUAJIT

pytestmark = pytest.mark.skipif(not LUAJIT, reason=NO_LUAJIT)


def _run(lines: list[str]) -> list[str]:
    done = subprocess.run([LUAJIT, str(HERE / "lua" / "check_codec.lua"), str(LUA_BRIDGE)], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.splitlines()


def _messages() -> list[bytes]:
    rng = random.Random(12)
    sizes = list(range(0, 130)) + [183, 447, 448, 511, 512, 1000, 4095, 65537]
    out = [bytes(rng.getrandbits(8) for _ in range(n)) for n in sizes]
    return out + [b"abc", "café ünïcode ✂".encode()]


def test_sha256_matches_hashlib_on_every_length_around_the_block_edges():
    messages = _messages()
    got = _run([f"sha {m.hex()}" for m in messages])
    assert got == [hashlib.sha256(m).hexdigest() for m in messages]


def test_hmac_sha256_matches_python_with_short_exact_and_long_keys():
    rng = random.Random(7)
    cases = []
    for key_len in (0, 1, 32, 63, 64, 65, 100, 200):
        for m in _messages()[::9]:
            cases.append((bytes(rng.getrandbits(8) for _ in range(key_len)), m))
    got = _run([f"hmac {k.hex()} {m.hex()}" for k, m in cases])
    assert got == [hmac.new(k, m, hashlib.sha256).hexdigest() for k, m in cases]


def test_a_secret_from_a_bridge_file_signs_like_the_python_side():
    from montage_ai.resolve_plugin.bridge import wire

    secret, body = wire.new_secret(), json.dumps({"op": "product", "seq": 1}).encode()
    assert _run([f"hmac {secret.encode().hex()} {body.hex()}"]) == [wire.sign(secret, body).decode()]


@pytest.mark.parametrize("value", [
    {"a": [1, 2, {"b": None}], "c": "line\nbreak \"quoted\" \\ tab\t", "d": True, "e": False},
    {"unicode": "café ✂ 🎬 \u0001", "empty_list": [], "empty_object": {}, "n": -86400, "big": 2 ** 52},
    [[], [[]], {"x": [{"y": {}}]}], "just a string", 12, 0.5, -1.25e-3,
])
def test_json_round_trips_through_the_lua_codec(value):
    [line] = _run(["json " + json.dumps(value)])
    assert json.loads(line) == value


def test_json_escapes_and_surrogate_pairs_decode_like_python():
    text = '{"s": "\\u00e9\\ud83c\\udfac\\n\\/\\b\\f\\r"}'
    [line] = _run(["json " + text])
    assert json.loads(line) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": ', '{"a" 1}', "[1, 2", '"open', "tru", '{"a": 1} x', '"\\ud800"', "01x"])
def test_malformed_json_is_an_error_not_a_crash(text):
    [line] = _run(["json " + text])
    assert line.startswith("error bad JSON")
