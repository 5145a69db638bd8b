"""The drift check itself: a stale generated file fails with a diff, fresh ones pass."""

import dataclasses

import pytest

import codegen.__main__ as codegen


@pytest.fixture
def outputs(tmp_path, monkeypatch) -> tuple[codegen.Output, ...]:
    """The generated files, written under tmp_path instead of server/."""
    moved = tuple(
        dataclasses.replace(output, path=tmp_path / output.path.name) for output in codegen.OUTPUTS
    )
    monkeypatch.setattr(codegen, "OUTPUTS", moved)
    return moved


# Four runs of the generator: the py env runs it; `make check` runs the drift check itself.
@pytest.mark.slow
def test_generation_writes_what_check_then_accepts(outputs, capsys):
    assert codegen.main([]) == 0
    models, schemas = (output.path.read_text() for output in outputs)
    assert "class Contractor(BaseModel)" in models
    assert "class Contractor(TypedDict)" in schemas
    assert codegen.main(["--check"]) == 0

    stale = outputs[1].path
    stale.write_text(stale.read_text().replace("class Contractor(", "class Renamed(", 1))
    capsys.readouterr()
    assert codegen.main(["--check"]) == 1
    out = capsys.readouterr()
    assert "-class Renamed(" in out.out and "+class Contractor(" in out.out
    assert "schemas.py is stale" in out.err
