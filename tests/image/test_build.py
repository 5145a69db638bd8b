"""The base image's recipe: where its packages come from, and the key its cache is kept under."""

from __future__ import annotations

from tests.image import build


def test_mirrors_come_from_this_machines_apt_sources(tmp_path, monkeypatch):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb [arch=amd64] http://mirror.example/debian/ bookworm main contrib\n"
    )
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://other.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb deb-src\nURIs: http://security.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n"
    )
    (tmp_path / "sources.list.d" / "vendor.list.disabled").write_text(
        "deb http://vendor.example/apt stable main\n"
    )
    monkeypatch.setattr(build, "APT_SOURCES", tmp_path)
    assert build.debian_sources() == [
        "deb http://mirror.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm-updates main",
        "deb http://security.example/debian-security bookworm-security main",
    ]


def test_without_sources_deb_debian_org(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "APT_SOURCES", tmp_path)
    assert build.debian_sources()[0] == "deb http://deb.debian.org/debian bookworm main"
    assert build.debian_sources()[2].startswith("deb http://deb.debian.org/debian-security ")


def test_cache_key_follows_the_recipe(monkeypatch):
    key = build.base_key()
    assert key == build.base_key()
    monkeypatch.setattr(build, "PACKAGES", (*build.PACKAGES, "curl"))
    assert build.base_key() != key


def test_cache_is_outside_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert build.cache_dir() == tmp_path / "ten99-server"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert not build.cache_dir().is_relative_to(build.ROOT)
