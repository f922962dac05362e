"""Styles as data: built-in TOML files, user folders, clear errors for malformed files."""

from __future__ import annotations

import logging

import pytest

from montage_ai.core.plan.styles import ENERGY_LEVELS, PHASES, StyleError, available_styles, load_style, style_dirs

BUILTIN = {"dynamic", "mtv", "hitchcock", "documentary", "cinematic", "vlog"}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No styles from the real user config folder; an empty $MONTAGE_AI_STYLES folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    user = tmp_path / "styles"
    user.mkdir()
    monkeypatch.setenv("MONTAGE_AI_STYLES", str(user))
    return user


def ranges(style):
    return [style.beats_for(e, p) for e in ENERGY_LEVELS for p in PHASES]


def test_builtins_are_listed_with_a_one_line_description():
    styles = {s.name: s for s in available_styles()}
    assert BUILTIN <= set(styles)
    for s in styles.values():
        assert s.description and "\n" not in s.description and s.source.endswith(f"{s.name}.toml")


def test_builtin_styles_say_what_their_names_promise():
    assert all(hi <= 2 for _, hi in ranges(load_style("mtv")))
    assert all(lo >= 8 and hi <= 16 for lo, hi in ranges(load_style("documentary")))
    assert load_style("documentary").reuse == "never"
    cine = load_style("cinematic")
    assert cine.all_cuts_on_downbeat and all(4 <= lo <= hi <= 8 for lo, hi in ranges(cine))
    assert load_style("vlog").order == "chronological" and load_style("dynamic").order == "story"
    hitch = load_style("hitchcock")
    assert hitch.accelerate_build and hitch.beats_for("mid", "intro")[0] > hitch.beats_for("mid", "climax")[1]
    dyn = load_style("dynamic")
    assert dyn.beats_for("low", "build")[0] > dyn.beats_for("high", "build")[1]
    assert all(s.min_shot_s <= s.max_shot_s and s.fade_out_s >= 0 for s in available_styles())


def test_a_user_style_file_is_picked_up_without_code(isolated):
    (isolated / "trailer.toml").write_text(
        'description = "Trailer: fast"\nmin_shot_s = 0.3\n[beats_per_cut.energy]\nlow = [2, 4]\nmid = [1, 2]\nhigh = [1, 1]\n')
    s = load_style("trailer")
    assert s.name == "trailer" and s.beats_for("high", "climax") == (1, 1) and s.min_shot_s == 0.3
    assert "trailer" in {x.name for x in available_styles()}


def test_a_user_file_overrides_a_builtin_and_can_extend_it(isolated):
    (isolated / "mtv.toml").write_text('description = "My MTV"\nextends = "mtv"\nfade_out_s = 0.25\n')
    s = load_style("mtv")
    assert s.description == "My MTV" and s.fade_out_s == 0.25
    assert s.beats_by_energy == load_style(str(style_dirs()[-1] / "mtv.toml")).beats_by_energy
    assert [x.description for x in available_styles() if x.name == "mtv"] == ["My MTV"]


def test_the_user_config_folder_is_searched(tmp_path):
    folder = tmp_path / "config" / "montage-ai" / "styles"
    folder.mkdir(parents=True)
    (folder / "slowmo.toml").write_text('description = "Slow"\n[beats_per_cut.energy]\nlow = [8, 16]\n')
    assert load_style("slowmo").beats_for("low", "intro") == (8, 16)


def test_a_style_loads_from_a_path(tmp_path):
    p = tmp_path / "elsewhere.toml"
    p.write_text('description = "x"\nextends = "vlog"\n')
    assert load_style(str(p)).order == "chronological"


@pytest.mark.parametrize("body,key", [
    ('description = "x"\nmin_shot_s = "fast"\n[beats_per_cut.energy]\nlow = [1, 2]\n', "min_shot_s"),
    ('description = "x"\nmin_shots = 1.0\n[beats_per_cut.energy]\nlow = [1, 2]\n', "min_shots"),
    ('description = "x"\n[beats_per_cut.energy]\nlow = [4, 2]\n', "beats_per_cut.energy.low"),
    ('description = "x"\n[beats_per_cut.energy]\nloud = [1, 2]\n', "beats_per_cut.energy.loud"),
    ('description = "x"\norder = "random"\n[beats_per_cut.energy]\nlow = [1, 2]\n', "order"),
    ('description = "x"\nreuse = "always"\n[beats_per_cut.energy]\nlow = [1, 2]\n', "reuse"),
    ('description = "x"\nmin_shot_s = 5.0\nmax_shot_s = 2.0\n[beats_per_cut.energy]\nlow = [1, 2]\n', "max_shot_s"),
    ('min_shot_s = 1.0\n[beats_per_cut.energy]\nlow = [1, 2]\n', "description"),
    ('description = "x"\n', "beats_per_cut"),
    ('description = "x"\nextends = "nope"\n', "extends"),
])
def test_a_malformed_style_names_the_file_and_the_key(isolated, body, key):
    (isolated / "broken.toml").write_text(body)
    with pytest.raises(StyleError) as err:
        load_style("broken")
    assert str(isolated / "broken.toml") in str(err.value)
    assert f"key {key!r}" in str(err.value)
    assert err.value.key == key


def test_invalid_toml_names_the_file(isolated, caplog):
    (isolated / "broken.toml").write_text('description = "x\n')
    with pytest.raises(StyleError, match="broken.toml: not valid TOML"):
        load_style("broken")
    with pytest.raises(StyleError, match="broken.toml"):
        available_styles()
    with caplog.at_level(logging.WARNING):
        names = {s.name for s in available_styles(strict=False)}
    assert BUILTIN <= names and "broken" not in names and "broken.toml" in caplog.text


def test_an_unknown_style_lists_the_known_ones():
    with pytest.raises(StyleError, match="unknown style; known styles: cinematic, documentary"):
        load_style("polka")


def test_circular_extends_is_reported(isolated):
    (isolated / "a.toml").write_text('description = "a"\nextends = "b"\n')
    (isolated / "b.toml").write_text('description = "b"\nextends = "a"\n')
    with pytest.raises(StyleError, match="circular"):
        load_style("a")
