"""Benchmark: one push of a rough cut over each live route into Resolve (fake Resolve).

Pushes the same cut list (4 cuts, the music, markers, read-back) into the fake Resolve of the
tests over the direct route (the baseline, in the same run), the in-app Python bridge and the
Lua bridge (each a subprocess whose ``resolve`` is the fake, every API call crossing a pipe to
this process, as a bridge inside Resolve crosses into Resolve). Prints the median time per push
and the ratio to the direct route; also the round trip of one small operation. Figures, not
pass/fail; the fake's pipe adds to the bridge times what Resolve's own calls would cost.

    .venv/bin/python bench/resolve_bridge.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bridge_harness import LUAJIT, RouteClients  # noqa: E402
from fake_resolve import make_resolve  # noqa: E402
from montage_ai.resolve_plugin.push import push_cut_list  # noqa: E402
from resolve_media import make_cut_list, make_media  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="montage-bench-bridge-"))
    try:
        media = make_media(folder)
        cut_list = make_cut_list(media)
        routes = ["direct", "bridge-python"] + (["bridge-lua"] if LUAJIT else [])
        results = {}
        for route in routes:
            clients = RouteClients(route, folder / route)
            try:
                pushes, pings = [], []
                for _ in range(args.repeats):
                    resolve = make_resolve({"Day 1": [media["a"], media["b"]], "Day 2": [media["c"]],
                                            "Music": [media["song"]]}, rate="23.976")
                    client = clients(resolve)
                    started = time.perf_counter()
                    report = push_cut_list(client, cut_list)
                    pushes.append(time.perf_counter() - started)
                    assert report.ok, report.mismatches
                    started = time.perf_counter()
                    for _ in range(100):
                        client.timeline_names()
                    pings.append((time.perf_counter() - started) / 100)
                results[route] = (statistics.median(pushes), statistics.median(pings))
            finally:
                clients.close()
        base = results["direct"][0]
        print(f"push of {len(cut_list.cuts)} cuts + music + markers + read-back, median of {args.repeats}:")
        for route, (push, ping) in results.items():
            print(f"  {route:14s} {push * 1000:8.1f} ms   x{push / base:6.1f} of direct   "
                  f"one operation {ping * 1e6:8.0f} us")
        if not LUAJIT:
            print("  (bridge-lua skipped: luajit is not installed)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
