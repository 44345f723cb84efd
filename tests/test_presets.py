"""Every preset reproduces its paper's stated values at the stated points, from real library objects."""

import math

import numpy as np
import pytest

from lrlab.presets import PRESETS
from lrlab.simulate import simulate

N = 100_000


def lrs(key: str, steps: int = N) -> np.ndarray:
    curve = simulate(PRESETS[key].config(steps))
    assert curve.first_diff_step is None or key in ("gpt3", "minicpm_wsd")  # recursive cosine / exponential drift
    return curve.frame["lr"].to_numpy()


def test_there_are_at_least_ten_presets_each_with_a_citation_and_a_link():
    assert len(PRESETS) >= 10
    for p in PRESETS.values():
        assert p.citation and p.url.startswith("https://") and p.published


def test_resnet_divides_by_ten_at_half_and_three_quarters_of_the_run():
    lr = lrs("resnet")
    assert lr[0] == 0.1 and lr[N // 2 - 1] == 0.1
    assert lr[N // 2] == pytest.approx(0.01) and lr[3 * N // 4] == pytest.approx(0.001)


def test_sgdr_restarts_at_the_end_of_each_doubling_cycle():
    lr = lrs("sgdr", 1500)  # T_0 = 100: restarts at 100, 300, 700
    assert [lr[t] for t in (0, 100, 300, 700)] == [0.05] * 4
    assert lr[99] < 1e-4 and lr[299] < 1e-4


def test_one_cycle_is_fastais_own_fit_one_cycle_with_its_defaults():
    lr = lrs("one_cycle", 1000)
    # fastai ends the warm-up phase at pct·N = 250 (torch's OneCycleLR at 249)
    assert lr[0] == pytest.approx(1e-3 / 25) and lr.argmax() == 250 and lr.max() == pytest.approx(1e-3)
    assert 1e-3 / 1e5 < lr[-1] < 2e-3 / 1e5  # its last batch is one step before the end of its cosine
    config = PRESETS["one_cycle"].config(1000)
    assert config.scheduler == "fastai:fit_one_cycle"
    momentum = simulate(config).frame["momentum"].to_numpy()
    assert momentum[0] == pytest.approx(0.95) and momentum[250] == pytest.approx(0.85)
    assert momentum[-1] == pytest.approx(0.95, rel=1e-6)


def test_the_torch_one_cycle_preset_peaks_one_step_before_fastais():
    torch_lr, fastai_lr = lrs("one_cycle_torch", 1000), lrs("one_cycle", 1000)
    assert torch_lr.argmax() == 249 and fastai_lr.argmax() == 250
    assert torch_lr[-1] == pytest.approx(1e-3 / 1e5, rel=1e-9)
    assert np.count_nonzero(~np.isclose(torch_lr, fastai_lr, rtol=1e-9, atol=0)) > 900


def test_the_transformer_schedule_is_the_papers_formula_after_warm_up():
    lr = lrs("transformer", 100_000)
    warmup = 4000
    for step in (warmup, 10_000, 50_000, 99_999):
        assert lr[step] == pytest.approx(512**-0.5 * min(step**-0.5, step * warmup**-1.5), rel=1e-12)
    assert lr.max() == pytest.approx(6.988e-4, rel=1e-3)


def test_bert_warms_up_over_one_percent_and_decays_linearly_to_zero():
    lr = lrs("bert")
    assert lr[0] == 0 and lr[1000] == pytest.approx(1e-4) and lr[N // 2] == pytest.approx(1e-4 * 0.5 / 0.99, rel=1e-3)


def test_gpt3_decays_to_ten_percent_at_260_of_300_billion_tokens_and_stays():
    lr = lrs("gpt3")
    end = round(N * 260 / 300)
    assert lr.max() == pytest.approx(6e-4) and lr[end - 1] == pytest.approx(6e-5, rel=1e-3)
    np.testing.assert_allclose(lr[end:], 6e-5, rtol=1e-12)


@pytest.mark.parametrize("key", ["chinchilla", "llama"])
def test_chinchilla_and_llama_end_at_ten_percent_of_the_max(key):
    lr = lrs(key)
    assert lr[-1] == pytest.approx(0.1 * lr.max(), rel=1e-6)


def test_llama_warms_up_over_its_two_thousand_of_250k_steps():
    lr = lrs("llama", 250_000)
    assert lr.argmax() == 2000 and lr.max() == pytest.approx(3e-4)


def test_minicpm_is_constant_until_the_last_tenth_then_halves_every_half_life():
    lr = lrs("minicpm_wsd")
    start = round(0.9 * N)
    np.testing.assert_allclose(lr[round(0.01 * N) : start], 1e-2, rtol=1e-12)
    half_life = (N - start) / 5
    assert lr[start + round(half_life)] == pytest.approx(5e-3, rel=1e-3)


def test_deepseek_drops_to_31_6_and_10_percent_at_80_and_90_percent():
    lr = lrs("deepseek")
    peak = 4.2e-4
    assert lr[round(0.5 * N)] == pytest.approx(peak)
    assert lr[round(0.85 * N)] == pytest.approx(0.316 * peak) and lr[-1] == pytest.approx(0.316**2 * peak)
    assert math.isclose(0.316**2, 0.1, rel_tol=2e-3)


def test_the_compose_page_loads_a_papers_composition_with_its_children_and_milestones():
    import base64
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60).run()
    at.switch_page("pages/compose.py").run()
    at.selectbox(key="co.preset").select("paper:gpt3").run()
    assert not at.exception
    assert at.session_state["co.n"] == 3 and at.session_state["co.base_lr"] == 6e-4
    library = next(t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"] if t["name"] == "library")
    raw = library["y"]
    y = np.frombuffer(base64.b64decode(raw["bdata"]), dtype=raw["dtype"]) if isinstance(raw, dict) else np.array(raw)
    # GPT-3: warm-up to 6e-4, cosine to 10 %, then held at 10 %: the run ends at 6e-5
    assert float(y[-1]) == pytest.approx(6e-5, rel=1e-9) and float(y.max()) == pytest.approx(6e-4, rel=1e-3)
