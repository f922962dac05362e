"""The direct route: :class:`DirectClient` calls Resolve's scripting API on a ``resolve`` object.

The object comes from Resolve itself (a script started from Workspace > Scripts, or the
Console) or from ``DaVinciResolveScript.scriptapp("Resolve")`` in our own process (see
:mod:`.connect`). The calls themselves live in :mod:`.bridge.resolve_ops` (shared with the
in-app Python bridge, which runs them inside Resolve for the free edition): every call is
wrapped there, since Resolve answers failures with ``None``/``False``/``[]`` rather than
exceptions, and a call that raises (the connection went away, an older version without the
method) is logged and treated as a failure.

Verified only against the in-memory fake in ``tests/fake_resolve.py``, which follows
Resolve's documented API and the behaviours integrators report; nothing here has been run
against a real Resolve yet. The API is not thread-safe: use one client from one thread.
"""

from __future__ import annotations

import logging
from typing import Any

from .bridge.resolve_ops import PROJECT_SETTINGS, OpsError, ResolveOps
from .client import OpsClient
from .errors import ResolveError

__all__ = ["DirectClient", "PROJECT_SETTINGS"]

log = logging.getLogger(__name__)


class DirectClient(OpsClient):
    """:class:`~montage_ai.resolve_plugin.client.ResolveClient` over the ``resolve`` object."""

    route = "direct"

    def __init__(self, resolve: Any) -> None:
        super().__init__()
        self._resolve = resolve
        self._ops = ResolveOps(resolve)

    @property
    def resolve(self) -> Any:
        """The ``resolve`` object this client calls."""
        return self._resolve

    def _op(self, op: str, /, **args: Any) -> Any:
        try:
            return getattr(self._ops, op)(**args)
        except OpsError as exc:
            raise ResolveError(str(exc)) from None
