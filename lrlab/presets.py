"""Schedules from the literature, as published, scaled to the user's run length where the paper
states proportions. Each preset is a :class:`~lrlab.specs.ScheduleConfig` built from real library
objects (compositions through ``SequentialLR``), with its citation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lrlab.specs import ScheduleConfig


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    citation: str  # authors, title, year
    url: str
    published: str  # the settings as the paper states them
    build: Callable[[int], tuple[str, dict[str, Any]]]  # steps -> (scheduler, params)
    base_lr: float
    optimizer: str = "sgd"
    betas: tuple[float, float] = (0.9, 0.999)
    note: str = ""  # where lrlab had to choose something the paper does not state

    def config(self, steps: int) -> ScheduleConfig:
        scheduler, params = self.build(steps)
        return ScheduleConfig.make(
            scheduler, params, steps=steps, base_lr=self.base_lr, optimizer=self.optimizer, betas=self.betas
        )


def _at(share: float, steps: int) -> int:
    """The step at a share of the run (at least 1, at most steps - 1 where that exists)."""
    return min(max(1, round(share * steps)), max(1, steps - 1))


def _warmup_then(steps: int, warmup_share: float, child: dict[str, Any], start: float = 1e-3) -> tuple[str, dict]:
    w = _at(warmup_share, steps)
    return "SequentialLR", {
        "schedulers": [{"name": "LinearLR", "start_factor": start, "end_factor": 1.0, "total_iters": w}, child],
        "milestones": [w],
    }


def _gpt3(steps: int) -> tuple[str, dict[str, Any]]:
    # warm-up 375M of 300B tokens; cosine to 10% over 260B tokens; then 10% to the end
    w, decay_end = _at(0.375 / 300, steps), _at(260 / 300, steps)
    return "SequentialLR", {
        "schedulers": [
            {"name": "LinearLR", "start_factor": 1e-3, "end_factor": 1.0, "total_iters": w},
            {"name": "CosineAnnealingLR", "T_max": max(1, decay_end - w), "eta_min": 6e-5},
            {"name": "ConstantLR", "factor": 0.1, "total_iters": steps},
        ],
        "milestones": [w, max(w + 1, decay_end)],
    }


def _deepseek(steps: int) -> tuple[str, dict[str, Any]]:
    # 2000 warm-up steps of ~213k (2T tokens / 9.4M-token batches); 31.6% of max at 80% of tokens, 10% at 90%
    w = _at(2000 / 213_000, steps)
    return _warmup_then(
        steps,
        2000 / 213_000,
        {
            "name": "MultiStepLR",
            "milestones": [max(0, _at(0.8, steps) - w), max(0, _at(0.9, steps) - w)],
            "gamma": 0.316,
        },
    )


def _minicpm(steps: int) -> tuple[str, dict[str, Any]]:
    # warm-up, stable, then an exponential decay over the last 10% (half-life T)
    w, decay_start = _at(0.01, steps), _at(0.9, steps)
    half_life = max(1.0, (steps - decay_start) / 5)
    return "SequentialLR", {
        "schedulers": [
            {"name": "LinearLR", "start_factor": 1e-3, "end_factor": 1.0, "total_iters": w},
            {"name": "ConstantLR", "factor": 1.0, "total_iters": 1},
            {"name": "ExponentialLR", "gamma": 0.5 ** (1 / half_life)},
        ],
        "milestones": [w, max(w + 1, decay_start)],
    }


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "resnet",
            "ResNet step decay",
            "He, Zhang, Ren, Sun — Deep Residual Learning for Image Recognition (CVPR 2016)",
            "https://arxiv.org/abs/1512.03385",
            "SGD, lr 0.1, momentum 0.9; divided by 10 at 32k and 48k iterations, stopped at 64k (CIFAR-10).",
            lambda n: ("MultiStepLR", {"milestones": [_at(32 / 64, n), _at(48 / 64, n)], "gamma": 0.1}),
            0.1,
        ),
        Preset(
            "sgdr",
            "SGDR warm restarts",
            "Loshchilov, Hutter — SGDR: Stochastic Gradient Descent with Warm Restarts (ICLR 2017)",
            "https://arxiv.org/abs/1608.03983",
            "Cosine annealing with restarts, T_0 = 10 epochs, T_mult = 2, lr 0.05 to 0 (WRN on CIFAR); "
            "scaled so that four cycles (10 + 20 + 40 + 80) fill the run.",
            lambda n: ("CosineAnnealingWarmRestarts", {"T_0": max(1, -(-n // 15)), "T_mult": 2, "eta_min": 0.0}),
            0.05,
        ),
        Preset(
            "one_cycle",
            "1cycle (fastai fit_one_cycle)",
            "Smith — A disciplined approach to neural network hyper-parameters (2018); fastai fit_one_cycle",
            "https://arxiv.org/abs/1803.09820",
            "lr_max/25 → lr_max over 25% of the run (cosine), then down to lr_max/1e5; momentum 0.95 → 0.85 → 0.95; "
            "fastai's lr_max default 1e-3. Drawn from fastai's own scheduler, as a Learner sets it batch by batch.",
            lambda n: ("fastai:fit_one_cycle", {"div": 25.0, "div_final": 1e5, "pct_start": 0.25}),
            1e-3,
        ),
        Preset(
            "one_cycle_torch",
            "1cycle in torch (OneCycleLR, fastai's settings)",
            "Smith — A disciplined approach to neural network hyper-parameters (2018); torch OneCycleLR",
            "https://arxiv.org/abs/1803.09820",
            "fastai's 1cycle settings in torch's OneCycleLR: final_div_factor is relative to the start, 1e5 / 25 = 4000. "
            "torch ends its phases one step earlier than fastai (at pct·N − 1 and N − 1, fastai at pct·N and N): "
            "the two curves differ at almost every step.",
            lambda n: (
                "OneCycleLR",
                {
                    "max_lr": 1e-3,
                    "total_steps": n,
                    "pct_start": 0.25,
                    "div_factor": 25.0,
                    "final_div_factor": 4000.0,
                    "base_momentum": 0.85,
                    "max_momentum": 0.95,
                },
            ),
            1e-3,
        ),
        Preset(
            "transformer",
            "Transformer inverse square root",
            "Vaswani et al. — Attention Is All You Need (NeurIPS 2017)",
            "https://arxiv.org/abs/1706.03762",
            "lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5), d_model 512, warmup 4000 of 100k steps, Adam "
            "β = (0.9, 0.98): a peak of 512^-0.5 · 4000^-0.5 ≈ 7.0e-4 at the end of warm-up.",
            lambda n: ("get_inverse_sqrt_schedule", {"num_warmup_steps": _at(0.04, n)}),
            512**-0.5 * 4000**-0.5,
            optimizer="adam",
            betas=(0.9, 0.98),
            note="transformers counts steps from 0 (lr 0 at step 0); the paper's formula starts at step 1.",
        ),
        Preset(
            "bert",
            "BERT linear warm-up and decay",
            "Devlin, Chang, Lee, Toutanova — BERT (NAACL 2019)",
            "https://arxiv.org/abs/1810.04805",
            "Adam, lr 1e-4, β = (0.9, 0.999), warm-up over the first 10,000 of 1,000,000 steps, linear decay.",
            lambda n: ("get_linear_schedule_with_warmup", {"num_warmup_steps": _at(0.01, n), "num_training_steps": n}),
            1e-4,
            optimizer="adamw",
        ),
        Preset(
            "gpt3",
            "GPT-3 cosine to 10%",
            "Brown et al. — Language Models are Few-Shot Learners (NeurIPS 2020)",
            "https://arxiv.org/abs/2005.14165",
            "Adam β = (0.9, 0.95); linear warm-up over the first 375M tokens, cosine decay to 10% of the lr over "
            "260B tokens, then 10% for the rest of the 300B tokens; lr 6e-4 for GPT-3 Small.",
            _gpt3,
            6e-4,
            optimizer="adamw",
            betas=(0.9, 0.95),
        ),
        Preset(
            "chinchilla",
            "Chinchilla cosine ×10 over the run",
            "Hoffmann et al. — Training Compute-Optimal Large Language Models (2022)",
            "https://arxiv.org/abs/2203.15556",
            "AdamW; cosine decay of the lr by 10× with the cycle length matched to the run (longer cycles hurt); "
            "max lr 2e-4 for Chinchilla 70B.",
            lambda n: (
                "get_cosine_with_min_lr_schedule_with_warmup",
                {"num_warmup_steps": _at(0.001, n), "num_training_steps": n, "min_lr_rate": 0.1},
            ),
            2e-4,
            optimizer="adamw",
            note="The paper does not state its warm-up; lrlab uses 0.1% of the run.",
        ),
        Preset(
            "llama",
            "LLaMA cosine to 10% with 2000 warm-up steps",
            "Touvron et al. — LLaMA: Open and Efficient Foundation Language Models (2023)",
            "https://arxiv.org/abs/2302.13971",
            "AdamW β = (0.9, 0.95), cosine schedule to 10% of the max lr, 2,000 warm-up steps; max lr 3e-4 (7B), "
            "1T tokens in 4M-token batches ≈ 250k steps, so warm-up ≈ 0.8% of the run.",
            lambda n: (
                "get_cosine_with_min_lr_schedule_with_warmup",
                {"num_warmup_steps": _at(2000 / 250_000, n), "num_training_steps": n, "min_lr_rate": 0.1},
            ),
            3e-4,
            optimizer="adamw",
            betas=(0.9, 0.95),
        ),
        Preset(
            "minicpm_wsd",
            "Warmup-stable-decay (MiniCPM)",
            "Hu et al. — MiniCPM: Unveiling the Potential of Small Language Models (2024)",
            "https://arxiv.org/abs/2404.06395",
            "WSD: warm-up, a constant lr, then an exponential decay 0.5^((s − S)/T) over about the last 10% of training.",
            _minicpm,
            1e-2,
            optimizer="adamw",
            note="lrlab's half-life T is a fifth of the decay phase (the paper uses T = 5000 steps) and its warm-up "
            "1% of the run.",
        ),
        Preset(
            "deepseek",
            "DeepSeek LLM multi-step",
            "DeepSeek-AI — DeepSeek LLM: Scaling Open-Source Language Models with Longtermism (2024)",
            "https://arxiv.org/abs/2401.02954",
            "2000 warm-up steps to the max lr (4.2e-4 for 7B), then 31.6% of it after 80% of the tokens and 10% "
            "after 90%.",
            _deepseek,
            4.2e-4,
            optimizer="adamw",
            betas=(0.9, 0.95),
        ),
    )
}
