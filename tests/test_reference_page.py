"""The Scheduler reference page: every registered schedule, grouped by library, each with its formula,
parameters and notes; a library that is not installed says how to install it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lrlab import SCHEDULERS
from lrlab.specs import LIBRARIES

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "reference.py")


def _page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> dict[str, object]:
    """The page's expanders by label."""
    return {e.label: e for e in at.expander if e.label != "Share this view"}


def test_the_library_control_offers_the_six_libraries_in_the_playgrounds_order():
    at = _page()
    labels = [o.content for o in at.get("button_group")[0].proto.options]
    assert labels == ["torch", "transformers", "timm", "keras", "optax", "fastai"]


@pytest.mark.parametrize("library", LIBRARIES)
def test_every_registered_schedule_of_each_library_appears_with_its_parameters_and_notes(library):
    at = _page({"library": library})
    names = [n for n, s in SCHEDULERS.items() if s.library == library]
    assert names, library
    shown = _shown(at)
    assert set(shown) == {SCHEDULERS[n].title for n in names}  # all of this library's, and only those
    for name in names:
        spec = SCHEDULERS[name]
        block = shown[spec.title]
        text = " ".join(m.value for m in block.markdown)
        assert f"`{spec.qualified_name}`" in text
        assert [latex.value.strip("$\n") for latex in block.latex] == [spec.formula]
        for p in spec.params:
            assert f"| `{p.name}` |" in text
        for note in spec.notes:
            assert f"- {note}" in text


def test_picking_keras_shows_cosine_decays_formula_as_the_keras_docs_write_it():
    at = _page({"library": "keras"})
    block = _shown(at)[SCHEDULERS["keras:CosineDecay"].title]
    (formula,) = [latex.value for latex in block.latex]
    # keras.optimizers.schedules.CosineDecay's docstring: decayed = (1 - alpha) * 0.5 * (1 + cos(pi * step /
    # decay_steps)) + alpha, times initial_learning_rate, after a linear warm-up to warmup_target
    for piece in (r"(1-\alpha)", r"\tfrac12", r"1 + \cos", r"\pi (s - W)}{D}", r"+ \alpha", r"\frac{s}{W}"):
        assert piece in formula, piece
    assert "keras.optimizers.schedules.CosineDecay" in " ".join(m.value for m in block.markdown)


@pytest.mark.parametrize(("library", "module"), [("timm", "timm"), ("keras", "keras"), ("optax", "optax")])
def test_a_library_that_is_not_installed_says_how_to_install_it(monkeypatch, library, module):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    at = _page({"library": library})
    infos = [i.value for i in at.info]
    names = [n for n, s in SCHEDULERS.items() if s.library == library]
    assert len(infos) == len(names)  # one per schedule of that library, and the formulas are still shown
    assert all(f"{library} is not installed here" in i and "pip install" in i for i in infos)
    assert len(at.latex) == len(names)


def test_a_link_to_an_unknown_library_opens_torch_with_a_notice():
    at = _page({"library": "tensorflow"})
    assert at.session_state["ref.library"] == "torch"
    assert "library" in " ".join(i.value for i in at.info)
