"""The product's defaults, in one place: every front end (CLI, panel, Resolve launcher) reads these.

A front end that offers an option takes its default from here, so `cut`, `resolve cut` and the
panel agree without anyone keeping them in step by hand.
"""

from __future__ import annotations

#: Editing style used when the editor picks none (see ``montage-ai styles``).
STYLE = "dynamic"
#: Story planner: "auto" asks a local Ollama model when one answers and falls back to the rules.
PLANNER = "auto"
PLANNERS = ("auto", "ollama", "rules")
#: Analysis mode: "auto" lets the engine choose per file.
MODE = "auto"
MODES = ("auto", "full", "fast")
#: Variation of the cut; another seed re-rolls it.
SEED = 0
#: Timeline rate: None means "from the footage the cut uses".
RATE = None
#: Preview height in pixels.
PREVIEW_HEIGHT = 720
#: Selects: best pieces per clip, lowest score kept, longest piece in seconds.
SELECTS_PER_CLIP = 3
SELECTS_MIN_SCORE = 0.5
SELECTS_PIECE_S = 3.0
#: Selects: how the pieces are ordered (source order, or grouped by clip, bin or story phase).
SELECTS_GROUP = "clip"
#: Proxies: format (see ``montage-ai proxies --help``) and files encoded at once on this
#: machine (each ffmpeg uses several cores; consumer GPUs allow few encoder sessions).
PROXY_PROFILE = "h264-half"
PROXY_WORKERS = 2
#: What a cut is written as beside its .otio (the .otioz copies media: on request only).
EXPORT_FORMATS = ("otio", "fcpxml", "premiere", "edl")
