"""The drift check itself: stale models fail with a diff, fresh ones pass."""

import codegen.__main__ as codegen


def test_check_fails_with_a_diff_when_models_are_stale(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "models.py"
    stale.write_text(codegen.MODELS.read_text().replace("class Contractor(", "class Renamed(", 1))
    monkeypatch.setattr(codegen, "MODELS", stale)
    assert codegen.main(["--check"]) == 1
    out = capsys.readouterr()
    assert "-class Renamed(" in out.out and "+class Contractor(" in out.out
    assert "stale" in out.err


def test_generation_writes_what_check_then_accepts(tmp_path, monkeypatch):
    target = tmp_path / "models.py"
    monkeypatch.setattr(codegen, "MODELS", target)
    assert codegen.main([]) == 0
    assert "class Contractor(" in target.read_text()
    assert codegen.main(["--check"]) == 0
