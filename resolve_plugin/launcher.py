# montage-ai resolve launcher
"""Montage AI for DaVinci Resolve: Workspace > Scripts > Utility > Montage AI.

Installed by ``montage-ai install-resolve``. Resolve runs this file with its own Python, not
ours, so it uses the standard library only. It reads the config the installer wrote
(``CONFIG_PATH``) and opens the Montage AI panel:

- inside Resolve's Python, when that Python has the version of our environment and the
  panel module offers ``run_in_resolve(resolve)`` (our environment's site-packages are
  added to ``sys.path``);
- otherwise as a separate process, ``<our environment>/montage-ai panel --resolve``, which connects to
  Resolve through the scripting API. When that command fails to start or exits at once, the
  reason and the end of its log are printed to Resolve's Console (Workspace > Console).
  In the free edition an outside process cannot call the scripting API, so the launcher then
  runs the in-app Python bridge (``bridge_script`` in the config) in this script: the panel
  reaches Resolve through it.
"""

import json
import os
import subprocess
import sys
import time

CONFIG_PATH = ""  # written by the installer
WAIT_S = 2.0


def report(message, config=None):
    """Print to Resolve's Console and append to our log."""
    line = "Montage AI: " + message
    print(line)
    log = (config or {}).get("log")
    if log:
        try:
            with open(log, "a", encoding="utf-8") as f:
                f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")
        except OSError:
            pass


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        report("cannot read the launcher config %s (%s); run `montage-ai install-resolve` again" % (path, exc))
        return None


def open_in_resolve(config, resolve):
    """Open the panel in this Python; False when it cannot run here."""
    if resolve is None or config.get("mode") == "process":
        return False
    here = "%d.%d" % sys.version_info[:2]
    if config.get("python_version") != here:
        return False
    import site

    before = list(sys.path)
    for folder in config.get("site_packages", []):
        if folder not in sys.path:
            site.addsitedir(folder)
    try:
        from montage_ai.ui.qt import panel

        run = panel.run_in_resolve
    except Exception as exc:  # noqa: BLE001 - any failure means: use a separate process
        sys.path[:] = before  # leave Resolve's Python as it was
        report("the panel does not open inside Resolve's Python %s (%s); starting it as a separate process"
               % (here, exc), config)
        return False
    run(resolve)
    return True


def start_process(config):
    """Start ``montage-ai panel``; 0 when it runs, else the exit code (reported)."""
    command = list(config.get("command") or []) + ["panel", "--resolve"]  # connects to this Resolve
    if not command[:-1] or not os.path.exists(command[0]):
        report("the Montage AI environment is gone (%s not found); run the installer again"
               % (command[0] if command[:-1] else "no command in the config"), config)
        return 127
    env = dict(os.environ)
    for key in ("PYTHONHOME", "PYTHONPATH"):  # Resolve's own Python settings would break ours
        env.pop(key, None)
    log_path = config.get("log") or os.devnull
    options = {"creationflags": 0x00000008 | 0x00000200} if os.name == "nt" else {"start_new_session": True}
    try:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env=env, **options)
    except OSError as exc:
        report("cannot start %s: %s" % (" ".join(command), exc), config)
        return 126
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    code = process.poll()
    if code is None:
        report("panel started (process %d)" % process.pid, config)
        return 0
    if code != 0:
        tail = ""
        try:
            with open(log_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - 1500))
                tail = f.read().decode("utf-8", "replace").strip()
        except OSError:
            pass
        report("`%s` failed with exit code %d%s" % (" ".join(command), code,
                                                    (":\n" + tail) if tail else ""), config)
    return code


def needs_bridge(resolve):
    """True for an edition without external scripting (its product name lacks "Studio")."""
    try:
        name = resolve.GetProductName() or ""
    except Exception:  # noqa: BLE001 - an old Resolve without the call
        return False
    return "studio" not in str(name).lower()


def run_bridge(config, resolve):
    """Serve the in-app Python bridge in this script until it stops; False when there is none."""
    script = config.get("bridge_script")
    if not script or not os.path.isfile(script):
        report("the in-app bridge is not installed (%s); run `montage-ai install-resolve` again" % script, config)
        return False
    import runpy

    report("free edition: serving the panel through the in-app bridge", config)
    runpy.run_path(script, init_globals={"resolve": resolve}, run_name="__main__")
    return True


def main(resolve=None, config_path=None):
    config = load_config(config_path or CONFIG_PATH)
    if config is None:
        return 2
    if open_in_resolve(config, resolve):
        return 0
    code = start_process(config)
    if code == 0 and resolve is not None and needs_bridge(resolve):
        run_bridge(config, resolve)
    return code


if __name__ == "__main__":
    main(globals().get("resolve"))
