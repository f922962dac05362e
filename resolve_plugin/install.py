"""Install the Montage AI launcher into Resolve's Scripts menu, and remove it again.

``install()`` writes these files and remembers them in a manifest:

- into the ``Utility`` folder of Resolve's Scripts folder, per user or for all users
  (:func:`scripts_folder`; the documented folders of ``docs/resolve_api.md``), so they show under
  Workspace > Scripts on every page:

  - the launcher ``Montage AI.py`` (:mod:`.launcher` with the config path filled in);
  - the in-app Python bridge ``Montage AI Bridge.py`` (``bridge/montage_bridge.py``) for
    editions without external scripting;
  - for editions whose Scripts menu lists only Lua (free 21.1 and later): the Lua bridge
    ``Montage AI Bridge (Lua).lua`` and the Lua launcher ``Montage AI (Lua).lua``, which starts
    the panel as a separate process and runs the Lua bridge;
- the bridge's support modules ``resolve_ops.py`` and ``wire.py`` into ``resolve-bridge/`` of
  our config folder (not the Scripts folder, where Resolve would list them);
- a config (JSON) telling the launcher which interpreter and ``montage-ai`` command belong to
  our environment and where its site-packages are (Resolve runs menu scripts with its own
  Python, not ours);
- the manifest: every file written (with its SHA-256) and every folder created.

``uninstall()`` removes exactly what the manifest lists: a file whose content changed since is
left in place and reported, a folder only when it is empty. A ``Montage AI.py`` that we did
not write is never replaced. Resolve lists a new script after a restart.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

from montage_ai.core.base.fileio import write_atomic

from .errors import InstallError

LAUNCHER_NAME = "Montage AI.py"
BRIDGE_NAME = "Montage AI Bridge.py"
LUA_BRIDGE_NAME = "Montage AI Bridge (Lua).lua"
LUA_LAUNCHER_NAME = "Montage AI (Lua).lua"
SUPPORT_FOLDER = "resolve-bridge"
SUPPORT_MODULES = ("resolve_ops.py", "wire.py")
MARKER = "# montage-ai resolve launcher"
#: First lines of the scripts we install (a script of that name without it is the editor's).
MARKERS = (MARKER, "# montage-ai resolve bridge", "-- montage-ai resolve bridge", "-- montage-ai resolve lua launcher")
CONFIG_NAME = "resolve-launcher.json"
LOG_NAME = "resolve-panel.log"


@dataclass(frozen=True)
class InstallResult:
    """What :func:`install` or :func:`uninstall` did."""

    launcher: Path
    config: Path
    manifest: Path
    removed: tuple[Path, ...] = ()
    kept: tuple[str, ...] = ()
    created_dirs: tuple[Path, ...] = field(default=())
    scripts: tuple[Path, ...] = ()


def scripts_folder(system: str | None = None, *, all_users: bool = False, home: Path | None = None,
                   env: Mapping[str, str] | None = None) -> Path:
    """Resolve's Fusion ``Scripts`` folder for one user or all users on ``system``
    (``platform.system()`` names). Our launcher goes into its ``Utility`` sub-folder."""
    system = system or platform.system()
    home = Path(home) if home else Path.home()
    env = os.environ if env is None else env
    if system == "Darwin":
        base = Path("/Library") if all_users else home / "Library"
        return base / "Application Support" / "Blackmagic Design" / "DaVinci Resolve" / "Fusion" / "Scripts"
    if system == "Windows":
        if all_users:
            return Path(env.get("PROGRAMDATA", r"C:\ProgramData")) / "Blackmagic Design" / "DaVinci Resolve" / "Fusion" / "Scripts"
        appdata = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
        return appdata / "Blackmagic Design" / "DaVinci Resolve" / "Support" / "Fusion" / "Scripts"
    if all_users:
        if not Path("/opt/resolve").exists() and Path("/home/resolve").exists():
            return Path("/home/resolve/Fusion/Scripts")
        return Path("/opt/resolve/Fusion/Scripts")
    return home / ".local" / "share" / "DaVinciResolve" / "Fusion" / "Scripts"


def default_config_dir(all_users: bool = False) -> Path:
    """Our config folder (platformdirs): per user, or the site-wide one for all users."""
    import platformdirs

    if all_users:
        return Path(platformdirs.site_config_dir("montage-ai", appauthor=False))
    return Path(platformdirs.user_config_dir("montage-ai", appauthor=False))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _environment(python: str) -> dict:
    """Version, site-packages and the ``montage-ai`` command of the environment of ``python``."""
    query = ("import json, sys, sysconfig; p = sysconfig.get_paths(); "
             "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], "
             "'site': sorted({p['purelib'], p['platlib']}), 'scripts': p['scripts']}))")
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        paths = sysconfig.get_paths()
        found = {"version": "%d.%d" % sys.version_info[:2], "site": sorted({paths["purelib"], paths["platlib"]}),
                 "scripts": paths["scripts"]}
    else:
        try:
            done = subprocess.run([python, "-c", query], capture_output=True, text=True, timeout=60, check=True)
            found = json.loads(done.stdout)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            raise InstallError(f"{python}: cannot ask this interpreter about its environment ({exc})") from None
    exe = "montage-ai.exe" if os.name == "nt" else "montage-ai"
    for folder in (found["scripts"], os.path.dirname(python)):
        candidate = os.path.join(folder, exe)
        if os.path.isfile(candidate):
            found["command"] = [candidate]
            break
    else:
        found["command"] = [python, "-m", "montage_ai.ui.cli.main"]
    return found


def launcher_source(config_path: Path) -> str:
    """The launcher's text with ``CONFIG_PATH`` set."""
    text = resources.files("montage_ai.resolve_plugin").joinpath("launcher.py").read_text(encoding="utf-8")
    line = 'CONFIG_PATH = ""  # written by the installer'
    if line not in text or not text.startswith(MARKER):
        raise InstallError("the launcher template in montage_ai.resolve_plugin is damaged")
    return text.replace(line, f"CONFIG_PATH = {json.dumps(str(config_path))}  # written by the installer", 1)


def _fill(template: str, values: Mapping[str, str], comment: str) -> str:
    """``template``'s text (from ``bridge/``) with each ``NAME = ""  <comment> written by the
    installer`` line set to its value."""
    text = resources.files("montage_ai.resolve_plugin.bridge").joinpath(template).read_text(encoding="utf-8")
    for name, value in values.items():
        for prefix in ("", "local "):
            line = f'{prefix}{name} = ""  {comment} written by the installer'
            if line in text:
                text = text.replace(line, f"{prefix}{name} = {json.dumps(value)}  {comment} written by the installer", 1)
                break
        else:
            raise InstallError(f"the template {template} in montage_ai.resolve_plugin.bridge has no {name} line")
    return text


def _is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().strip() in MARKERS
    except OSError:
        return False


def _manifest_path(config_dir: Path, all_users: bool) -> Path:
    return config_dir / ("resolve-install-all-users.json" if all_users else "resolve-install.json")


def _make_dirs(folder: Path) -> list[Path]:
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstallError(f"{folder}: cannot create the folder ({exc}); for --all-users run as an administrator") from None
    return missing  # deepest first


def install(python: str | None = None, *, all_users: bool = False, system: str | None = None,
            home: Path | None = None, env: Mapping[str, str] | None = None, config_dir: Path | None = None,
            mode: str = "auto", bridge_folders: Sequence[str] = ()) -> InstallResult:
    """Install the launcher for ``python``'s environment (default: this one).

    ``mode`` ``"process"`` always starts the panel as a separate process; ``"auto"`` opens
    it inside Resolve's Python when that works. ``bridge_folders`` (opt-in, one user):
    both bridges then take only paths whose real file lies in these folders (written to
    ``bridge-folders.json`` beside the bridge file; ``$MONTAGE_AI_BRIDGE_FOLDERS`` overrides it).

    Raises
    ------
    InstallError
        A ``Montage AI.py`` that is not ours is in the way, or a folder cannot be written.
    """
    python = os.path.abspath(python or sys.executable)
    config_dir = Path(config_dir) if config_dir else default_config_dir(all_users)
    folders = _bridge_folders(bridge_folders, all_users)
    folder = scripts_folder(system, all_users=all_users, home=home, env=env) / "Utility"
    launcher = folder / LAUNCHER_NAME
    scripts = [launcher] + [folder / n for n in (BRIDGE_NAME, LUA_BRIDGE_NAME, LUA_LAUNCHER_NAME)]
    for script in scripts:
        if script.exists() and not _is_ours(script):
            raise InstallError(f"{script}: a script of that name exists and Montage AI did not write it; "
                               "move it away and install again")
    manifest_path = _manifest_path(config_dir, all_users)
    previous = _read_manifest(manifest_path) if manifest_path.exists() else {"files": [], "dirs": []}
    support = config_dir / SUPPORT_FOLDER
    created = [str(p) for p in _make_dirs(config_dir) + _make_dirs(support) + _make_dirs(folder)]
    found = _environment(python)
    config_path = config_dir / CONFIG_NAME
    config = {
        "python": python, "python_version": found["version"], "command": found["command"],
        "site_packages": found["site"], "log": str(config_dir / LOG_NAME), "mode": mode,
        "bridge_script": str(folder / BRIDGE_NAME),
        "installed": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_atomic(config_path, json.dumps(config, indent=2) + "\n", overwrite=True)
    write_atomic(launcher, launcher_source(config_path), overwrite=True)
    from .bridge.wire import default_bridge_file

    # One user: the bridge file's place as seen now; all users: each user's own, found at run time.
    bridge_file = "" if all_users else default_bridge_file()
    for name in SUPPORT_MODULES:
        text = resources.files("montage_ai.resolve_plugin.bridge").joinpath(name).read_text(encoding="utf-8")
        write_atomic(support / name, text, overwrite=True)
    write_atomic(folder / BRIDGE_NAME, _fill("montage_bridge.py", {"SUPPORT_DIR": str(support),
                                                                   "BRIDGE_FILE": bridge_file}, "#"), overwrite=True)
    write_atomic(folder / LUA_BRIDGE_NAME, _fill("montage_bridge.lua", {"BRIDGE_FILE": bridge_file}, "--"),
                 overwrite=True)
    write_atomic(folder / LUA_LAUNCHER_NAME, _fill("montage_launcher.lua", {
        "CONFIG_PATH": str(config_path), "BRIDGE_SCRIPT": str(folder / LUA_BRIDGE_NAME)}, "--"), overwrite=True)
    written = [launcher, config_path] + scripts[1:] + [support / n for n in SUPPORT_MODULES]
    if folders:
        from .bridge.resolve_ops import FOLDERS_FILE

        setting = Path(bridge_file).parent / FOLDERS_FILE
        created += [str(p) for p in _make_dirs(setting.parent) if str(p) not in created]
        write_atomic(setting, json.dumps({"folders": folders}, indent=2) + "\n", overwrite=True)
        written.append(setting)
    files = [{"path": str(p), "sha256": _sha256(p)} for p in written]
    files.append({"path": str(config_dir / LOG_NAME), "sha256": None})  # written by the launcher later
    dirs = list(dict.fromkeys(created + [d for d in previous.get("dirs", []) if d not in created]))
    manifest = {"version": 1, "all_users": all_users, "files": files, "dirs": dirs}
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n", overwrite=True)
    return InstallResult(launcher, config_path, manifest_path, created_dirs=tuple(Path(d) for d in created),
                         scripts=tuple(scripts[1:]))


def _bridge_folders(folders: Sequence[str], all_users: bool) -> list[str]:
    """The bridge folders to write: absolute, existing, each once (InstallError otherwise)."""
    if not folders:
        return []
    if all_users:
        raise InstallError("--bridge-folder is a setting of one user's bridges: install without --all-users, or set "
                           "MONTAGE_AI_BRIDGE_FOLDERS for the users")
    out = []
    for folder in folders:
        if not os.path.isabs(folder) or not os.path.isdir(folder):
            raise InstallError(f"--bridge-folder {folder}: not an existing absolute folder")
        out.append(os.path.realpath(folder))
    return list(dict.fromkeys(out))


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InstallError(f"{path}: cannot read the install manifest ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise InstallError(f"{path}: not a Montage AI install manifest")
    return data


def uninstall(*, all_users: bool = False, system: str | None = None, home: Path | None = None,
              env: Mapping[str, str] | None = None, config_dir: Path | None = None) -> InstallResult:
    """Remove what :func:`install` wrote, as its manifest lists it, and nothing else."""
    config_dir = Path(config_dir) if config_dir else default_config_dir(all_users)
    manifest_path = _manifest_path(config_dir, all_users)
    if not manifest_path.exists():
        raise InstallError(f"nothing to uninstall: no install manifest at {manifest_path}")
    manifest = _read_manifest(manifest_path)
    removed, kept = [], []
    for entry in manifest["files"]:
        path = Path(entry["path"])
        if not path.exists():
            continue
        if entry.get("sha256") and _sha256(path) != entry["sha256"]:
            kept.append(f"{path}: changed since it was installed; left in place")
            continue
        path.unlink()
        removed.append(path)
    manifest_path.unlink()
    removed.append(manifest_path)
    for d in sorted(manifest.get("dirs", []), key=lambda d: len(Path(d).parts), reverse=True):
        folder = Path(d)
        try:
            folder.rmdir()
            removed.append(folder)
        except OSError:
            if folder.exists():
                kept.append(f"{folder}: not empty; left in place")
    launcher = scripts_folder(system, all_users=all_users, home=home, env=env) / "Utility" / LAUNCHER_NAME
    return InstallResult(launcher, config_dir / CONFIG_NAME, manifest_path, tuple(removed), tuple(kept))
