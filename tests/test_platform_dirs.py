"""Where docgen keeps its cache and config on each OS: platformdirs' folders, with docgen's own overrides.

Linux is where the suite runs; the macOS and Windows folders are checked here with platformdirs' rules for
those systems (their path logic, run on this machine), not on a Mac or a Windows machine."""
import sys
from pathlib import Path, PureWindowsPath

import platformdirs.macos
import platformdirs.windows
import pytest

from docgen._io import user_cache_root, user_config_root
from docgen.regions.config import ModelConfig, default_cache_dir, default_config_path
from docgen.typeset.fonts import cache_dir as font_cache_dir

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG folders are Linux's")


@linux_only
def test_linux_follows_the_xdg_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCGEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("DOCGEN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xg"))
    assert user_cache_root() == tmp_path / "xc" / "docgen"
    assert font_cache_dir() == tmp_path / "xc" / "docgen" / "fonts"
    assert Path(default_cache_dir()) == tmp_path / "xc" / "docgen" / "regions"
    assert default_config_path() == tmp_path / "xg" / "docgen" / "config.toml"
    (tmp_path / "xg" / "docgen").mkdir(parents=True)
    (tmp_path / "xg" / "docgen" / "config.toml").write_text("[model]\nsteps = 7\n", encoding="utf-8")
    cfg = ModelConfig.from_env(env={})
    assert cfg.steps == 7 and Path(cfg.cache_dir) == tmp_path / "xc" / "docgen" / "regions"


@linux_only
def test_without_xdg_variables_the_home_folders(tmp_path, monkeypatch):
    for var in ("DOCGEN_CACHE_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_cache_root() == tmp_path / ".cache" / "docgen"
    assert user_config_root() == tmp_path / ".config" / "docgen"


def test_docgen_variables_win(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("DOCGEN_CONFIG", str(tmp_path / "my.toml"))
    assert font_cache_dir() == tmp_path / "c" / "fonts"
    assert default_config_path() == tmp_path / "my.toml"
    (tmp_path / "my.toml").write_text("[model]\nsteps = 9\n", encoding="utf-8")
    cfg = ModelConfig.from_env()
    assert cfg.steps == 9 and cfg.cache_dir == str(tmp_path / "c")      # $DOCGEN_CACHE_DIR is the regions cache


def test_macos_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    mac = platformdirs.macos.MacOS
    assert user_cache_root(mac) == tmp_path / "Library" / "Caches" / "docgen"
    assert user_config_root(mac) == tmp_path / "Library" / "Application Support" / "docgen"


def test_windows_folders(monkeypatch):
    # platformdirs' override variables stand in for the shell's known folders (the Windows API is not here)
    monkeypatch.delenv("DOCGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", r"C:\Users\u\AppData\Local")
    monkeypatch.setenv("WIN_PD_OVERRIDE_APPDATA", r"C:\Users\u\AppData\Roaming")
    win = platformdirs.windows.Windows
    # appauthor=False: no docgen\docgen
    assert PureWindowsPath(str(user_cache_root(win))) == PureWindowsPath(r"C:\Users\u\AppData\Local\docgen\Cache")
    assert PureWindowsPath(str(user_config_root(win))) == PureWindowsPath(r"C:\Users\u\AppData\Roaming\docgen")
