"""Installing the launcher into Resolve's Scripts menu (into a temporary home), and the
launcher itself run by a bare Python as Resolve would."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from montage_ai.resolve_plugin.errors import InstallError
from montage_ai.resolve_plugin.install import LAUNCHER_NAME, install, scripts_folder, uninstall


def test_scripts_folders_per_os(tmp_path):
    home = tmp_path
    assert scripts_folder("Darwin", home=home) == \
        home / "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"
    assert scripts_folder("Darwin", all_users=True) == \
        Path("/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts")
    assert scripts_folder("Windows", home=home, env={"APPDATA": str(home / "Roaming")}) == \
        home / "Roaming" / "Blackmagic Design" / "DaVinci Resolve" / "Support" / "Fusion" / "Scripts"
    assert scripts_folder("Windows", all_users=True, env={"PROGRAMDATA": str(home / "PD")}) == \
        home / "PD" / "Blackmagic Design" / "DaVinci Resolve" / "Fusion" / "Scripts"
    assert scripts_folder("Linux", home=home) == home / ".local/share/DaVinciResolve/Fusion/Scripts"


@pytest.fixture
def installed(tmp_path):
    home, config = tmp_path / "home", tmp_path / "home" / ".config" / "montage-ai"
    home.mkdir()
    result = install(sys.executable, system="Linux", home=home, config_dir=config)
    return home, config, result


def test_install_puts_the_launcher_into_utility_and_a_config_beside_us(installed):
    home, config, result = installed
    assert result.launcher == home / ".local/share/DaVinciResolve/Fusion/Scripts/Utility" / LAUNCHER_NAME
    text = result.launcher.read_text()
    assert json.dumps(str(config / "resolve-launcher.json")) in text
    data = json.loads(result.config.read_text())
    assert data["python"] == os.path.abspath(sys.executable)
    assert data["python_version"] == "%d.%d" % sys.version_info[:2]
    assert os.path.basename(data["command"][0]) in ("montage-ai", "python", "python3") and data["site_packages"]


def test_uninstall_removes_exactly_what_was_installed(installed):
    home, config, result = installed
    mine = home / ".local/share/DaVinciResolve/Fusion/Scripts/Utility/My script.py"
    mine.write_text("print('mine')")
    undone = uninstall(system="Linux", home=home, config_dir=config)
    assert not result.launcher.exists() and not result.config.exists() and not result.manifest.exists()
    assert mine.read_text() == "print('mine')" and mine.parent.is_dir()  # not empty: kept
    assert any("not empty" in line for line in undone.kept)
    mine.unlink()
    assert not config.exists()  # created by the install, now empty, removed


def test_uninstall_removes_the_folders_it_created(installed):
    home, config, _ = installed
    uninstall(system="Linux", home=home, config_dir=config)
    assert sorted(p.name for p in home.iterdir()) == []


def test_uninstall_keeps_a_launcher_the_user_changed(installed):
    home, config, result = installed
    result.launcher.write_text(result.launcher.read_text() + "\n# my change\n")
    undone = uninstall(system="Linux", home=home, config_dir=config)
    assert result.launcher.exists() and any("changed since" in line for line in undone.kept)


def test_install_never_replaces_a_script_it_did_not_write(tmp_path):
    folder = scripts_folder("Linux", home=tmp_path) / "Utility"
    folder.mkdir(parents=True)
    (folder / LAUNCHER_NAME).write_text("print('someone else')")
    with pytest.raises(InstallError, match="Montage AI did not write it"):
        install(sys.executable, system="Linux", home=tmp_path, config_dir=tmp_path / "cfg")
    assert (folder / LAUNCHER_NAME).read_text() == "print('someone else')"


def test_reinstall_updates_and_one_uninstall_cleans_up(installed):
    home, config, _ = installed
    install(sys.executable, system="Linux", home=home, config_dir=config)
    uninstall(system="Linux", home=home, config_dir=config)
    assert list(home.iterdir()) == []


def test_uninstall_without_an_install_says_so(tmp_path):
    with pytest.raises(InstallError, match="nothing to uninstall"):
        uninstall(system="Linux", home=tmp_path, config_dir=tmp_path / "cfg")


# ---------------------------------------------------------------------------- the launcher
def _fake_command(folder: Path, body: str) -> str:
    script = folder / "montage-ai"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def _run_launcher(installed, command: list[str], tmp_path) -> str:
    _, _, result = installed
    data = json.loads(result.config.read_text())
    data["command"] = command
    result.config.write_text(json.dumps(data))
    # -I -S: no site-packages, no environment: only the standard library, as in Resolve.
    done = subprocess.run([sys.executable, "-I", "-S", str(result.launcher)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(os.name == "nt", reason="POSIX executable script")
def test_launcher_reports_a_panel_command_that_fails(installed, tmp_path):
    command = _fake_command(tmp_path, "print('no panel command yet', file=sys.stderr)\nsys.exit(2)")
    out = _run_launcher(installed, [command], tmp_path)
    assert f"`{command} panel --resolve` failed with exit code 2" in out and "no panel command yet" in out


@pytest.mark.skipif(os.name == "nt", reason="POSIX executable script")
def test_launcher_starts_the_panel_process(installed, tmp_path):
    flag = tmp_path / "args.txt"
    command = _fake_command(tmp_path, f"open({str(flag)!r}, 'w').write(' '.join(sys.argv[1:]))\n"
                                      "import time\ntime.sleep(4)")
    out = _run_launcher(installed, [command], tmp_path)
    assert "panel started (process" in out
    assert flag.read_text() == "panel --resolve"


def test_launcher_says_when_the_environment_is_gone(installed, tmp_path):
    out = _run_launcher(installed, [str(tmp_path / "deleted-venv" / "montage-ai")], tmp_path)
    assert "environment is gone" in out and "run the installer again" in out


def test_launcher_imports_nothing_outside_the_standard_library():
    import ast

    from montage_ai.resolve_plugin import launcher

    tree = ast.parse(Path(launcher.__file__).read_text())
    top = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert top - sys.stdlib_module_names == {"montage_ai"}  # only inside open_in_resolve, guarded


# ---------------------------------------------------------------------------- installer scripts
INSTALLERS = Path(__file__).resolve().parent.parent / "installers"


def test_installer_script_parses():
    assert subprocess.run(["bash", "-n", str(INSTALLERS / "install_resolve.sh")]).returncode == 0


@pytest.mark.skipif(os.name == "nt", reason="bash installer")
def test_installer_uninstall_runs_the_environments_command(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _fake = venv / "bin" / "montage-ai"
    _fake.write_text("#!/bin/sh\necho \"called: $*\"\n")
    _fake.chmod(0o755)
    done = subprocess.run(["bash", str(INSTALLERS / "install_resolve.sh"), "--uninstall"], capture_output=True,
                          text=True, env={**os.environ, "MONTAGE_AI_VENV": str(venv)})
    assert done.returncode == 0 and done.stdout.strip() == "called: install-resolve --uninstall"


@pytest.mark.skipif(os.name == "nt", reason="bash installer")
def test_installer_refuses_an_old_or_missing_python(tmp_path):
    done = subprocess.run(["bash", str(INSTALLERS / "install_resolve.sh")], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": str(tmp_path / "no-python"),
                               "MONTAGE_AI_VENV": str(tmp_path / "venv")})
    assert done.returncode == 1 and "not found; install Python 3.10" in done.stderr
    assert not (tmp_path / "venv").exists()


def _drive_launcher(installed, tmp_path, config_changes: dict) -> str:
    """Run the installed launcher's main() in a bare Python as Resolve would, with a
    stand-in ``resolve`` object."""
    _, _, result = installed
    data = json.loads(result.config.read_text())
    data.update(config_changes)
    result.config.write_text(json.dumps(data))
    driver = tmp_path / "driver.py"
    driver.write_text(f"import runpy\nns = runpy.run_path({str(result.launcher)!r}, run_name='launcher')\n"
                      "ns['main'](resolve='the resolve object')\n")
    done = subprocess.run([sys.executable, "-I", "-S", str(driver)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_launcher_opens_the_panel_inside_resolves_python_when_it_can(installed, tmp_path):
    site = tmp_path / "site"
    (site / "montage_ai" / "ui" / "qt").mkdir(parents=True)
    flag = tmp_path / "in-process.txt"
    (site / "montage_ai" / "ui" / "qt" / "panel.py").write_text(
        f"def run_in_resolve(resolve):\n    open({str(flag)!r}, 'w').write(resolve)\n")
    out = _drive_launcher(installed, tmp_path, {"site_packages": [str(site)], "command": [str(tmp_path / "unused")]})
    assert flag.read_text() == "the resolve object" and "environment is gone" not in out


def test_launcher_falls_back_to_a_process_when_the_panel_cannot_load_inside(installed, tmp_path):
    out = _drive_launcher(installed, tmp_path, {"site_packages": [str(tmp_path / "empty")],
                                                "command": [str(tmp_path / "unused")]})
    assert "does not open inside Resolve's Python" in out and "environment is gone" in out


def test_launcher_in_process_needs_the_same_python_version(installed, tmp_path):
    out = _drive_launcher(installed, tmp_path, {"python_version": "2.7", "command": [str(tmp_path / "unused")]})
    assert "does not open inside" not in out and "environment is gone" in out


@pytest.mark.parametrize("system, where", [
    ("Darwin", "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts/Utility"),
    ("Windows", "Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts/Utility"),
])
def test_install_and_uninstall_with_other_systems_folders(tmp_path, system, where):
    env = {"APPDATA": str(tmp_path / "Roaming")}
    install(sys.executable, system=system, home=tmp_path, env=env, config_dir=tmp_path / "cfg")
    assert (tmp_path / where / LAUNCHER_NAME).is_file()
    uninstall(system=system, home=tmp_path, env=env, config_dir=tmp_path / "cfg")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- bridges
from bridge_harness import LUAJIT, NO_LUAJIT, BridgeProcess  # noqa: E402
from fake_resolve import make_resolve  # noqa: E402
from montage_ai.resolve_plugin.bridge_client import connect_bridge  # noqa: E402
from montage_ai.resolve_plugin.install import (  # noqa: E402
    BRIDGE_NAME,
    LUA_BRIDGE_NAME,
    LUA_LAUNCHER_NAME,
    SUPPORT_FOLDER,
)


def test_install_adds_both_bridges_the_lua_launcher_and_the_support_modules(installed):
    home, config, result = installed
    utility = result.launcher.parent
    assert sorted(p.name for p in utility.iterdir()) == sorted([LAUNCHER_NAME, BRIDGE_NAME, LUA_BRIDGE_NAME,
                                                                LUA_LAUNCHER_NAME])
    assert sorted(p.name for p in (config / SUPPORT_FOLDER).iterdir()) == ["resolve_ops.py", "wire.py"]
    bridge = (utility / BRIDGE_NAME).read_text()
    assert f'SUPPORT_DIR = {json.dumps(str(config / SUPPORT_FOLDER))}  # written by the installer' in bridge
    assert f'BRIDGE_FILE = {json.dumps(os.environ["MONTAGE_AI_RESOLVE_BRIDGE_FILE"])}' in bridge
    lua = (utility / LUA_LAUNCHER_NAME).read_text()
    assert f'local BRIDGE_SCRIPT = {json.dumps(str(utility / LUA_BRIDGE_NAME))}' in lua
    assert f'local CONFIG_PATH = {json.dumps(str(result.config))}' in lua
    manifest = {e["path"] for e in json.loads(result.manifest.read_text())["files"]}
    assert {str(p) for p in utility.iterdir()} | {str(config / SUPPORT_FOLDER / "wire.py")} <= manifest


def test_uninstall_removes_the_bridges_and_support_modules_and_nothing_of_the_editor(installed):
    home, config, result = installed
    utility = result.launcher.parent
    mine = utility / "My bridge.lua"
    mine.write_text("print('mine')")
    uninstall(system="Linux", home=home, config_dir=config)
    assert [p.name for p in utility.iterdir()] == ["My bridge.lua"]
    assert not (config / SUPPORT_FOLDER).exists()


def test_a_bridge_script_of_the_editor_is_never_replaced(tmp_path):
    home = tmp_path / "home"
    utility = scripts_folder("Linux", home=home) / "Utility"
    utility.mkdir(parents=True)
    (utility / LUA_BRIDGE_NAME).write_text("-- the editor's own\n")
    with pytest.raises(InstallError, match="Montage AI did not write it"):
        install(sys.executable, system="Linux", home=home, config_dir=tmp_path / "cfg")
    assert (utility / LUA_BRIDGE_NAME).read_text() == "-- the editor's own\n"


def test_the_installed_python_bridge_runs_from_the_scripts_folder_and_leaves_no_cache(installed):
    home, config, result = installed
    fake = make_resolve({}, project="Installed")
    process = BridgeProcess(fake, "python", os.environ["MONTAGE_AI_RESOLVE_BRIDGE_FILE"],
                            script=result.launcher.parent / BRIDGE_NAME).wait_ready()
    try:
        with connect_bridge() as client:
            assert client.project().name == "Installed"
            client.stop_bridge()
        assert process.wait_exit(10) == 0
    finally:
        process.close()
    assert not list(config.rglob("__pycache__")) and not list(result.launcher.parent.rglob("__pycache__"))
    uninstall(system="Linux", home=home, config_dir=config)
    assert not config.exists()


@pytest.mark.skipif(not LUAJIT, reason=NO_LUAJIT)
def test_the_lua_launcher_starts_the_panel_with_our_interpreter_and_runs_the_lua_bridge(installed, tmp_path):
    home, config, result = installed
    started = tmp_path / "panel-started.json"
    panel = tmp_path / "fake panel.py"
    panel.write_text("import json, os, sys\n"
                     f"json.dump({{'argv': sys.argv[1:], 'pythonpath': os.environ.get('PYTHONPATH')}}, "
                     f"open({str(started)!r}, 'w'))\n")
    data = json.loads(result.config.read_text())
    data["command"] = [sys.executable, str(panel)]
    result.config.write_text(json.dumps(data))
    utility = result.launcher.parent
    fake = make_resolve({}, project="Free 21.1", product="DaVinci Resolve")
    process = BridgeProcess(fake, "lua", os.environ["MONTAGE_AI_RESOLVE_BRIDGE_FILE"], script=utility / LUA_LAUNCHER_NAME,
                            codec_script=utility / LUA_BRIDGE_NAME, env={"PYTHONPATH": "/resolve/own/python"})
    try:
        process.wait_ready()
        with connect_bridge() as client:
            assert client.route == "bridge-lua" and client.project().name == "Free 21.1"
            for _ in range(100):
                if started.exists() and started.read_text():
                    break
                time.sleep(0.05)
            assert json.loads(started.read_text()) == {"argv": ["panel", "--resolve"], "pythonpath": None}
            client.stop_bridge()
        assert process.wait_exit(10) == 0
        assert "panel starting" in process.output()
    finally:
        process.close()


@pytest.mark.skipif(os.name == "nt", reason="POSIX executable script")
def test_in_the_free_edition_the_python_launcher_serves_the_panel_through_the_bridge(installed, tmp_path):
    _, _, result = installed
    flag = tmp_path / "args.txt"
    command = _fake_command(tmp_path, f"open({str(flag)!r}, 'w').write(' '.join(sys.argv[1:]))\n"
                                      "import time\ntime.sleep(4)")
    data = json.loads(result.config.read_text())
    data.update(command=[command], mode="process")
    result.config.write_text(json.dumps(data))
    fake = make_resolve({}, project="Free 21.0", product="DaVinci Resolve")
    process = BridgeProcess(fake, "python", os.environ["MONTAGE_AI_RESOLVE_BRIDGE_FILE"], script=result.launcher)
    try:
        process.wait_ready()
        with connect_bridge() as client:
            assert client.project().name == "Free 21.0"
            client.stop_bridge()
        assert process.wait_exit(10) == 0
        assert flag.read_text() == "panel --resolve" and "serving the panel through the in-app bridge" in process.output()
    finally:
        process.close()
