"""Where the real media of ``shared/`` lies for the tests that use it (they skip without it):
``$MONTAGE_SHARED``, else ``shared/`` beside the repository or beside its parent (a worktree
under a folder of worktrees)."""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def shared_dir(sub: str) -> Path | None:
    """``shared/<sub>`` when it is a folder, else None."""
    env = os.environ.get("MONTAGE_SHARED")
    for cand in ([Path(env)] if env else []) + [_HERE.parent.parent / "shared", _HERE.parent.parent.parent / "shared"]:
        if (cand / sub).is_dir():
            return cand / sub
    return None
