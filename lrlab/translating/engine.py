"""Translate a schedule into every library: exact where the target can express it, else the closest fit.

How a translation is found, for one target library:

1. The source config is *analysed* into a :class:`~lrlab.translating.shape.Shape` by its library's
   module (``ANALYZERS``), and the shape is checked against the source library's real curve: an
   analysis that does not reproduce it is not used.
2. The target library's module *expresses* the shape in its own parameters (``express``): a list of
   candidate configs, native schedules first, each with one sentence on how its parameters were
   computed; and, for what it can't express, the reason.
3. Each candidate is stepped in the real target library and compared with the source's real curve
   over the whole run: the first within tolerance is the **exact** counterpart (the others that
   also match are its alternatives).
4. Otherwise the target's fit templates are fitted to the source curve by least squares
   (:func:`scipy.optimize.least_squares`, on the target's closed form where it has one), and the
   best is measured again in the real target library: the **closest** counterpart, with its residual.
5. A library with neither gets **none**, with the reason.

The tolerance of "exact" is the looser of the two libraries' own: 1e-9 relative between float64
libraries, float32 rounding (about 1e-6) where Keras or optax compute in float32, and where fastai
finds its phase positions in float32 (:data:`FLOAT32_POSITIONS`).
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from lrlab.schedulers import get_spec
from lrlab.simulate import compare, has_fast_path, resolve, rounding, simulate
from lrlab.simulate import fast as fast_curve
from lrlab.specs import LIBRARIES, LrlabError, ScheduleConfig, invalid
from lrlab.translating.shape import Shape

Verdict = Literal["exact", "closest", "none"]

#: Where each library's analysers, expressers and fit templates live (imported on first use).
MODULES: dict[str, str] = {
    "torch": "lrlab.translating.lib_torch",
    "transformers": "lrlab.translating.lib_transformers",
    "timm": "lrlab.translating.lib_timm",
    "keras": "lrlab.translating.lib_keras",
    "optax": "lrlab.translating.lib_optax",
    "fastai": "lrlab.translating.lib_fastai",
}
#: The longest run translated (every candidate is stepped in its real library, fastai's in a Learner).
MAX_TRANSLATE_STEPS = 20_000
#: Fitting budget per template (closed-form evaluations).
MAX_FIT_EVALUATIONS = 200
#: A shape analysed from a config must reproduce the source's real curve to this relative difference.
SHAPE_CHECK = 1e-6
#: Libraries whose positions in the run are float32 although their lr is float64 (fastai's combine_scheds
#: finds the phase and u in float32 tensors): (relative tolerance, absolute noise as a share of the peak lr).
#: A u off by one float32 ulp (6e-8) moves a cosine phase by at most π/2 · ulp / pct of its span: with
#: pct ≥ 0.05 that is 2e-6 of the peak, the noise; the relative 1e-6 is Keras's and optax's float32 bound.
FLOAT32_POSITIONS: dict[str, tuple[float, float]] = {"fastai": (1e-6, 2e-6)}


@dataclass(frozen=True)
class Run:
    """What a target config takes from the source run besides the shape."""

    steps: int
    steps_per_epoch: int = 1
    optimizer: str = "sgd"
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)

    def config(self, scheduler: str, params: Mapping[str, Any], base_lr: float, **run: Any) -> ScheduleConfig:
        """A config of ``scheduler`` for this run (``run`` overrides steps_per_epoch, interval…)."""
        fields = {
            "steps": self.steps,
            "steps_per_epoch": self.steps_per_epoch,
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "betas": self.betas,
        }
        fields.update(run)
        return ScheduleConfig.make(scheduler, dict(params), base_lr=float(base_lr), **fields)


@dataclass(frozen=True)
class Candidate:
    """A target config that should match the shape, and how its parameters were computed."""

    config: ScheduleConfig
    how: str
    momentum_config: ScheduleConfig | None = None  # a second schedule for momentum / beta1 (optax, Keras)


@dataclass(frozen=True)
class FitTemplate:
    """A target schedule with free parameters to fit to the source curve.

    ``build(x)`` turns the parameter vector into a config; integer parameters are not fitted (a
    template fixes them, e.g. from the shape's phase lengths)."""

    scheduler: str
    names: tuple[str, ...]
    x0: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    build: Callable[[np.ndarray], ScheduleConfig]
    why: str  # one sentence: why this library has no exact counterpart
    how: str = ""  # how the fixed parameters were found (a template with nothing to fit must say it)


@dataclass(frozen=True)
class Expressed:
    """What a library module offers for a shape."""

    candidates: list[Candidate] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # what it can't express, and why
    fits: list[FitTemplate] = field(default_factory=list)


@dataclass(frozen=True)
class Counterpart:
    """A schedule's counterpart in one library, with the measured proof."""

    library: str
    verdict: Verdict
    config: ScheduleConfig | None
    how: str  # how the parameters were computed (exact) or found (closest)
    reason: str | None  # why there is no exact counterpart (closest, none)
    max_rel_diff: float | None = None  # over the whole run, both real libraries stepped
    mean_rel_diff: float | None = None
    worst_steps: tuple[int, ...] = ()  # where they differ most (closest)
    tolerance: float = 1e-9
    momentum_max_rel_diff: float | None = None
    momentum_note: str | None = None
    momentum_config: ScheduleConfig | None = None
    alternatives: tuple[Counterpart, ...] = ()
    lr: np.ndarray | None = field(default=None, repr=False, compare=False)  # the counterpart's real curve
    noise: float = 0.0  # absolute difference counted as float32 rounding (0 between float64 libraries)

    @property
    def criterion(self) -> str:
        """What "exact" was measured against, in words."""
        if self.noise > 0:
            return (
                f"every step within {self.tolerance:g} relative, or within {self.noise:.2g} absolute "
                "(float32 rounding of the largest lr)"
            )
        return f"every step within {self.tolerance:g} relative"

    @property
    def exact(self) -> bool:
        return self.verdict == "exact"

    @property
    def scheduler(self) -> str | None:
        return self.config.scheduler if self.config is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "library": self.library,
            "verdict": self.verdict,
            "exact": self.exact,
            "config": self.config.to_dict() if self.config is not None else None,
            "how": self.how,
            "reason": self.reason,
            "max_rel_diff": self.max_rel_diff,
            "mean_rel_diff": self.mean_rel_diff,
            "worst_steps": list(self.worst_steps),
            "tolerance": self.tolerance,
            "noise": self.noise,
            "criterion": self.criterion,
            "momentum_max_rel_diff": self.momentum_max_rel_diff,
            "momentum_note": self.momentum_note,
            "momentum_config": self.momentum_config.to_dict() if self.momentum_config is not None else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
        }


@dataclass(frozen=True)
class Translation:
    """A source schedule and its counterpart in each library asked for."""

    source: ScheduleConfig
    shape: Shape | None
    counterparts: tuple[Counterpart, ...]
    lr: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.zeros(0))
    momentum: np.ndarray | None = field(repr=False, compare=False, default=None)

    def __getitem__(self, library: str) -> Counterpart:
        for counterpart in self.counterparts:
            if counterpart.library == library:
                return counterpart
        raise KeyError(library)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "shape": self.shape.describe() if self.shape is not None else None,
            "counterparts": [c.to_dict() for c in self.counterparts],
        }


def _module(library: str) -> Any:
    return importlib.import_module(MODULES[library])


# ---- measuring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    lr: np.ndarray
    momentum: np.ndarray | None
    tolerance: float
    noise: float


def measure(config: ScheduleConfig) -> Measured:
    """The real library's curve for ``config`` (lr of group 0, and momentum / beta1 where cycled)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = simulate(config)
    frame = result.frame
    spec, params, ctx = resolve(config)
    column = result.momentum_column
    lr = frame["lr"].to_numpy(dtype=np.float64)
    tolerance, noise = spec.tolerance, rounding(spec, params, ctx)
    if spec.library in FLOAT32_POSITIONS:
        relative_bound, share = FLOAT32_POSITIONS[spec.library]
        peak = float(np.nanmax(np.abs(lr))) if np.isfinite(lr).any() else 0.0
        tolerance, noise = max(tolerance, relative_bound), max(noise, share * peak)
    return Measured(
        lr=lr,
        momentum=frame[column].to_numpy(dtype=np.float64) if column else None,
        tolerance=tolerance,
        noise=noise,
    )


def relative(target: np.ndarray, source: np.ndarray, noise: float = 0.0, *, mask: bool = True) -> np.ndarray:
    """Relative difference row by row, against the source's value floored at ``noise`` (a float32
    library's rounding, absolute) and at 1e-12 of the source's peak: where the source is ~0 the
    difference is measured against the rounding, not against 0. With ``mask`` a difference within
    ``noise`` counts as 0, as in :func:`lrlab.simulate.compare` (the verdict); without, it is what a
    user measuring the two curves finds (the reported numbers)."""
    scale = float(np.nanmax(np.abs(source))) if np.isfinite(source).any() else 1.0
    floor = max(1e-12 * scale, noise, np.finfo(np.float64).tiny)
    counted = max(4 * np.finfo(np.float64).eps * scale, noise) if mask else 0.0
    with np.errstate(invalid="ignore"):
        difference = np.abs(target - source)
        rel = np.where(difference <= counted, 0.0, difference / np.maximum(np.abs(source), floor))
    rel = np.where(np.isnan(target) & np.isnan(source), 0.0, rel)
    return np.where(np.isnan(rel), np.inf, rel)


@dataclass(frozen=True)
class Agreement:
    """How a target's lr agrees with the source's over the whole run.

    ``within``: every row within ``tolerance`` relative, or within ``noise`` absolute (a float32
    library's rounding of its largest lr). ``max_rel`` / ``mean_rel`` are the plain relative
    differences, rounding included: what a user measuring the two curves finds."""

    within: bool
    max_rel: float
    mean_rel: float
    rows: tuple[int, ...]  # up to three rows where they differ most beyond the tolerance
    tolerance: float
    noise: float


def _agreement(source: Measured, target: Measured) -> Agreement:
    tolerance = max(source.tolerance, target.tolerance)
    noise = max(source.noise, target.noise)
    beyond, _ = compare(target.lr, source.lr, tolerance, noise)
    rel = relative(target.lr, source.lr, noise, mask=False)
    finite = rel[np.isfinite(rel)]
    max_rel = float(rel.max()) if rel.size else 0.0
    mean = float(finite.mean()) if finite.size == rel.size else math.inf
    counted = relative(target.lr, source.lr, noise)
    order = np.argsort(-np.where(np.isfinite(counted), counted, np.inf), kind="stable")[:3]
    rows = tuple(int(r) for r in sorted(order) if counted[r] > tolerance)
    return Agreement(beyond <= tolerance, max_rel, mean, rows, tolerance, noise)


def _momentum_agreement(source: Measured, target: Measured, tolerance: float) -> float | None:
    if source.momentum is None or target.momentum is None:
        return None
    noise = 2e-6 * float(np.nanmax(np.abs(source.momentum))) if tolerance > 1e-9 else 0.0
    return compare(target.momentum, source.momentum, tolerance, noise)[0]


# ---- analysing the source -----------------------------------------------------------------------------


def analyse(config: ScheduleConfig, measured: Measured | None = None, *, infer: bool = True) -> Shape | None:
    """The shape of ``config``: its library module's analysis, else (``infer``) one read off its real
    curve (:mod:`lrlab.translating.infer`), or None.

    Every shape is checked against the real library's curve (``measured``, stepped if not given): a
    shape that does not reproduce it to :data:`SHAPE_CHECK` is not returned."""
    spec, params, ctx = resolve(config)
    analyser = getattr(_module(spec.library), "ANALYZERS", {}).get(spec.name)
    shape = analyser(params, ctx, config) if analyser is not None else None
    measured = measured or measure(config)
    tolerance = max(SHAPE_CHECK, measured.tolerance * 10)

    def fits(candidate: Shape) -> bool:
        return compare(candidate.values(), measured.lr, tolerance, measured.noise)[0] <= tolerance

    if shape is None or not fits(shape):
        shape = None
        if infer and not spec.needs_metric:
            from lrlab.translating.infer import infer as read_off

            shape = next((s for s in read_off(measured.lr) if fits(s)), None)
        if shape is None:
            return None
    if shape.momentum and measured.momentum is not None:
        if compare(shape.momentum_values(), measured.momentum, tolerance, 0.0)[0] > tolerance:
            shape = replace(shape, momentum=())
    elif measured.momentum is None:
        shape = replace(shape, momentum=())
    return shape


# ---- translating --------------------------------------------------------------------------------------


def _check_source(config: ScheduleConfig) -> None:
    resolve(config)
    if config.steps > MAX_TRANSLATE_STEPS:
        raise invalid(
            "steps",
            config.steps,
            f"translation steps every counterpart in its real library: at most {MAX_TRANSLATE_STEPS:,} steps",
        )


def _metric_driven(config: ScheduleConfig, library: str) -> Counterpart:
    spec = get_spec(config.scheduler)
    return Counterpart(
        library,
        "none",
        None,
        "",
        f"{spec.name} follows a validation metric, not the step: its curve is not a function a schedule can "
        "reproduce (torch ReduceLROnPlateau, timm PlateauLRScheduler and Keras's ReduceLROnPlateau callback are "
        "the same idea; compare them on the Plateau page)",
    )


def translate(config: ScheduleConfig | Mapping[str, Any], to: str | list[str] | tuple[str, ...] | None = None) -> Any:
    """The counterpart of ``config`` in library ``to`` (a :class:`Counterpart`), or in every library
    (``to=None``: a :class:`Translation`), or in the libraries of a list (a :class:`Translation`).

    Each counterpart says whether it is exact, the max relative difference measured between the two
    real libraries' curves over the whole run, and, when not exact, why.

    >>> import lrlab
    >>> hf = lrlab.ScheduleConfig.make("get_cosine_schedule_with_warmup",
    ...     {"num_warmup_steps": 10, "num_training_steps": 100}, steps=100, base_lr=0.001)
    >>> found = lrlab.translate(hf, to="optax")          # doctest: +SKIP
    >>> found.verdict, found.config.scheduler           # doctest: +SKIP
    ('exact', 'optax:warmup_cosine_decay_schedule')
    """
    from lrlab.specs import from_lrlab

    if not isinstance(config, ScheduleConfig):
        config = from_lrlab(config)
    allowed = "must be one of " + ", ".join(LIBRARIES) + " (or None for every library)"
    if to is not None and not isinstance(to, (str, list, tuple)):
        raise invalid("to", to, allowed)
    wanted = [to] if isinstance(to, str) else list(LIBRARIES) if to is None else list(to)
    if not wanted:
        raise invalid("to", to, "must name at least one library: " + allowed)
    for library in wanted:
        if not isinstance(library, str) or library.lower() not in LIBRARIES:
            raise invalid("to", library, allowed)
    wanted = [library.lower() for library in wanted]
    _check_source(config)
    source = measure(config)
    shape = analyse(config, source)
    targets = list(dict.fromkeys(wanted))
    counterparts = tuple(_counterpart(config, source, shape, library) for library in targets)
    if isinstance(to, str):
        return counterparts[0]
    return Translation(config, shape, counterparts, lr=source.lr, momentum=source.momentum)


def _run(config: ScheduleConfig) -> Run:
    return Run(
        steps=config.steps,
        steps_per_epoch=config.steps_per_epoch,
        optimizer=config.optimizer,
        momentum=config.momentum,
        betas=config.betas,
    )


def _measure_quietly(config: ScheduleConfig) -> Measured | None:
    try:
        return measure(config)
    except LrlabError:
        return None
    except Exception:  # a library refusing a computed candidate is a failed candidate, not a crash
        return None


def _counterpart(config: ScheduleConfig, source: Measured, shape: Shape | None, library: str) -> Counterpart:
    spec = get_spec(config.scheduler)
    if spec.library != library and spec.needs_metric:
        return _metric_driven(config, library)
    if spec.library == library:
        return Counterpart(
            library, "exact", config, "the source schedule itself", None, 0.0, 0.0, (), source.tolerance, lr=source.lr
        )
    missing = _library_missing(library)
    if missing:
        return Counterpart(library, "none", None, "", missing)
    module = _module(library)
    why_shape = None
    if shape is not None:
        expressed: Expressed = module.express(shape, _run(config), config)
    else:
        expressed = Expressed(fits=module.fit_templates(None, _run(config), config, source.lr))
        why_shape = (
            f"this {spec.name} curve is not made of the pieces libraries share (warm-up, constant, linear, cosine, "
            f"polynomial, exponential, steps), so {library} is fitted to it"
        )
    exact: list[Counterpart] = []
    for candidate in expressed.candidates:
        target = _measure_quietly(candidate.config)
        if target is None:
            continue
        agreement = _agreement(source, target)
        if not agreement.within:
            continue
        worst, mean, tolerance = agreement.max_rel, agreement.mean_rel, agreement.tolerance
        mom = _momentum_agreement(source, target, tolerance)
        mom_note = None
        if source.momentum is not None and target.momentum is None:
            if candidate.momentum_config is not None:
                mom_target = _measure_quietly(candidate.momentum_config)
                if mom_target is not None:
                    mom = compare(mom_target.lr, source.momentum, tolerance, mom_target.noise)[0]
                mom_note = f"{library} schedules the lr only: momentum as a second schedule of its own"
            else:
                mom_note = f"{library}'s counterpart does not cycle momentum: the source's momentum is not carried"
        if mom is not None and mom > tolerance and mom_note is None:
            mom_note = f"the momentum differs by up to {mom:.3g} (relative)"
        exact.append(
            Counterpart(
                library,
                "exact",
                candidate.config,
                candidate.how,
                None,
                worst,
                mean,
                (),
                tolerance,
                mom,
                mom_note,
                candidate.momentum_config,
                lr=target.lr,
                noise=agreement.noise,
            )
        )
    if exact:
        if source.momentum is not None:  # where the source cycles momentum, a counterpart that carries it first
            exact.sort(key=lambda c: c.momentum_max_rel_diff is None or c.momentum_max_rel_diff > c.tolerance)
        return replace(exact[0], alternatives=tuple(exact[1:]))
    reasons = list(expressed.reasons)
    if shape is not None and any(s.origin is not None and s.origin != s.start for s in shape.within()):
        reasons.insert(
            0,
            f"its decay's clock starts before the warm-up ends (the curve is joined part-way, as timm's "
            f"warmup_prefix=False does), and {library}'s schedules start a decay at its beginning",
        )
    reason = "; ".join(dict.fromkeys(reasons)) or why_shape
    fits = expressed.fits or (module.fit_templates(shape, _run(config), config, source.lr) if shape else [])
    if not fits:
        return Counterpart(library, "none", None, "", reason or f"{library} has no schedule of this form")
    best = _fit_best(fits, source)
    if best is None:
        return Counterpart(library, "none", None, "", (reason or "") + " (no fit could be stepped)")
    template, fitted, target = best
    agreement = _agreement(source, target)
    worst, mean, rows, tolerance = agreement.max_rel, agreement.mean_rel, agreement.rows, agreement.tolerance
    names = ", ".join(template.names)
    if template.names:
        how = f"{names} fitted by least squares to the source curve (scipy.optimize.least_squares)"
    else:
        how = "computed from the source's shape, then measured"
    if template.how:
        how = f"{template.how}; {how}"
    if agreement.within:
        return Counterpart(
            library, "exact", fitted, how, None, worst, mean, (), tolerance, lr=target.lr, noise=agreement.noise
        )
    return Counterpart(
        library,
        "closest",
        fitted,
        how,
        template.why if not reason else reason,
        worst,
        mean,
        rows,
        tolerance,
        _momentum_agreement(source, target, tolerance),
        lr=target.lr,
        noise=agreement.noise,
    )


def _library_missing(library: str) -> str | None:
    from lrlab.schedulers import SCHEDULERS

    for spec in SCHEDULERS.values():
        if spec.library == library:
            return spec.unavailable()
    return None


def _fast_values(config: ScheduleConfig) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if has_fast_path(config):
            return fast_curve(config).frame["lr"].to_numpy(dtype=np.float64)
        return simulate(config).frame["lr"].to_numpy(dtype=np.float64)


def _fit_best(templates: list[FitTemplate], source: Measured) -> tuple[FitTemplate, ScheduleConfig, Measured] | None:
    """Each template fitted by least squares to the source's lr; the best, measured in its real library."""
    from scipy.optimize import least_squares

    target_lr = source.lr
    scale = np.maximum(np.abs(target_lr), 1e-3 * float(np.nanmax(np.abs(target_lr)) or 1.0))
    best: tuple[float, FitTemplate, ScheduleConfig, Measured] | None = None
    for template in templates:

        def residual(x: np.ndarray, template: FitTemplate = template) -> np.ndarray:
            try:
                values = _fast_values(template.build(x))
            except Exception:
                return np.full(target_lr.shape, 1e6)
            out = (values - target_lr) / scale
            return np.where(np.isfinite(out), out, 1e6)

        x0 = np.clip(np.asarray(template.x0, dtype=np.float64), template.lower, template.upper)
        if template.names:
            try:
                solution = least_squares(
                    residual,
                    x0,
                    bounds=(template.lower, template.upper),
                    max_nfev=MAX_FIT_EVALUATIONS,
                    x_scale="jac",
                )
                x = solution.x
            except Exception:
                x = x0
        else:
            x = x0
        try:
            fitted = template.build(x)
        except Exception:
            continue
        measured = _measure_quietly(fitted)
        if measured is None:
            continue
        # the best is the one closest in the least-squares sense, measured on the real library's curve
        # (the max relative difference alone would prefer a fit that is only good near lr 0)
        error = (measured.lr - target_lr) / scale
        key = float(np.sqrt(np.mean(error**2))) if np.isfinite(error).all() else math.inf
        if best is None or key < best[0]:
            best = (key, template, fitted, measured)
    return None if best is None else best[1:]


__all__ = [
    "MAX_TRANSLATE_STEPS",
    "Candidate",
    "Counterpart",
    "Expressed",
    "FitTemplate",
    "Run",
    "Translation",
    "analyse",
    "measure",
    "translate",
]
