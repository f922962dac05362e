"""Analysis cache: identity, hit, miss, corruption, concurrent writers."""

from __future__ import annotations

import json
import os
import threading

from montage_ai.core.run.cache import AnalysisCache, FileIdentity


def media_file(tmp_path, name="clip.mov", size=3 << 20):
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def test_identity_changes_with_content_and_mtime(tmp_path):
    path = media_file(tmp_path)
    first = FileIdentity.of(path)
    assert FileIdentity.of(path) == first
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, tail changed
    path.write_bytes(bytes(data))
    os.utime(path, ns=(first.mtime_ns, first.mtime_ns))
    assert FileIdentity.of(path).head_tail_hash != first.head_tail_hash
    os.utime(path, ns=(first.mtime_ns + 10**9, first.mtime_ns + 10**9))
    assert FileIdentity.of(path).mtime_ns != first.mtime_ns


def test_miss_then_hit(tmp_path):
    cache = AnalysisCache(tmp_path / "cache")
    key = cache.key("footage", FileIdentity.of(media_file(tmp_path)), "1", mode="full")
    assert cache.get(key) is None
    cache.put(key, {"shots": [1, 2, 3]})
    assert cache.get(key) == {"shots": [1, 2, 3]}


def test_key_depends_on_version_and_parameters(tmp_path):
    ident = FileIdentity.of(media_file(tmp_path))
    keys = {AnalysisCache.key("footage", ident, "1", mode="full"), AnalysisCache.key("footage", ident, "2", mode="full"),
            AnalysisCache.key("footage", ident, "1", mode="fast"), AnalysisCache.key("music", ident, "1", mode="full")}
    assert len(keys) == 4


def test_corrupt_entry_is_a_miss_and_removed(tmp_path, caplog):
    cache = AnalysisCache(tmp_path / "cache")
    key = cache.key("footage", FileIdentity.of(media_file(tmp_path)), "1")
    cache.put(key, {"ok": True})
    path = cache.path_for(key)
    path.write_bytes(b'{"key": "' + key.encode() + b'", "payload": {"ok": tr')  # cut mid-write
    assert cache.get(key) is None
    assert not path.exists()
    assert "unreadable" in caplog.text
    cache.put(key, {"ok": True})
    assert cache.get(key) == {"ok": True}


def test_entry_under_the_wrong_key_is_rejected(tmp_path):
    cache = AnalysisCache(tmp_path / "cache")
    key = cache.key("footage", FileIdentity.of(media_file(tmp_path)), "1")
    cache.path_for(key).parent.mkdir(parents=True)
    cache.path_for(key).write_text(json.dumps({"key": "other", "payload": {}}))
    assert cache.get(key) is None


def test_concurrent_writers_never_expose_a_partial_entry(tmp_path):
    cache = AnalysisCache(tmp_path / "cache")
    key = cache.key("footage", FileIdentity.of(media_file(tmp_path)), "1")
    payloads = [{"writer": w, "data": list(range(20000))} for w in range(4)]
    bad: list[object] = []
    stop = threading.Event()

    def write(p):
        for _ in range(25):
            cache.put(key, p)

    def read():
        while not stop.is_set():
            got = cache.get(key)
            if got is not None and got not in payloads:
                bad.append(got)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not bad
    assert cache.get(key) in payloads
    assert not [p for p in cache.path_for(key).parent.iterdir() if p.suffix == ".tmp"]
