"""Loading Keras and reading its schedules the way a Keras optimizer reads them.

A Keras optimizer holding a ``LearningRateSchedule`` reads ``optimizer.learning_rate`` =
``schedule(optimizer.iterations)`` (``BaseOptimizer._get_current_learning_rate``) for every update
and then adds 1 to ``iterations``: row ``t`` of a curve is ``schedule(t)`` with ``t`` of the
iteration variable's dtype (int32 on the torch and jax backends), and the result is float32.

Calling a schedule once per step costs ~0.7 ms (100k steps ≈ 70 s), so this module evaluates it on
short slices of a step tensor: :data:`CHUNK` steps per call. The slices are kept shorter than
torch's SIMD loops (2 × 8 floats), so every element takes torch's scalar path, the one a 0-d
``iterations`` takes; a longer vector rounds ``pow``/``cos`` differently by one float32 ulp at ~2 %
of the steps. tests/test_lib_keras.py proves the rows equal the optimizer's own per-step values.

Two schedules can't take a tensor of steps at all:
- ``CosineDecay`` with a warm-up chooses its branch with ``ops.cond`` (a Python ``if`` on the torch
  backend): after the same casts and clamp as ``__call__``, each step goes to the schedule's own
  branch function (``_warmup_function`` / ``_decay_function``) that the same condition
  (``step < warmup_steps``) picks.
- ``PiecewiseConstantDecay`` accumulates into a 0-d tensor in place: it is called once per run of
  steps between two boundaries (its value depends on the step only through the comparisons with the
  boundaries), with a 0-d step.

Keras is imported on first use only (~6 s; it also imports jax when jax is installed), with
``KERAS_BACKEND`` defaulting to ``torch``. Where the user imported Keras before with another backend,
that backend is used; results are read with ``keras.ops.convert_to_numpy``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

#: Steps per schedule call: shorter than torch's vectorised loop (2 × Vectorized<float>::size() = 16),
#: so each element is computed as a single step is (see the module docstring).
CHUNK = 15


def keras_module() -> Any:
    """``keras``, imported on first use, on the torch backend unless the user chose another one.

    Keras writes ``~/.keras/keras.json`` on its first import if there is none; it records Keras's own
    defaults (backend "tensorflow"), and ``KERAS_BACKEND`` wins over it, so it does not change the
    backend used here or later."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def make(name: str, **kwargs: Any) -> Any:
    """The real ``keras.optimizers.schedules.<name>(**kwargs)``."""
    return getattr(keras_module().optimizers.schedules, name)(**kwargs)


def iteration_dtype(schedule: Any) -> str:
    """The dtype of ``optimizer.iterations`` of a Keras SGD holding ``schedule`` (int32 on torch)."""
    keras = keras_module()
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    return keras.backend.standardize_dtype(optimizer.iterations.dtype)


def evaluate(schedule: Any, steps: int) -> np.ndarray:
    """``schedule(t)`` for t = 0 … steps − 1 as a Keras optimizer evaluates it (float32 values)."""
    keras = keras_module()
    dtype = iteration_dtype(schedule)
    name = type(schedule).__name__
    if name == "PiecewiseConstantDecay":
        return _piecewise(schedule, steps, dtype)
    counts = keras.ops.arange(steps, dtype=dtype)
    if name == "CosineDecay" and schedule.warmup_target is not None:
        return _cosine_with_warmup(schedule, counts, steps)
    return _chunked(schedule, counts, steps)


def _chunked(call: Callable[[Any], Any], values: Any, steps: int) -> np.ndarray:
    """``call`` on :data:`CHUNK` elements of ``values`` at a time."""
    out = np.empty(steps, dtype=np.float32)
    for start in range(0, steps, CHUNK):
        out[start : start + CHUNK] = to_numpy(call(values[start : start + CHUNK]))
    return out


def _cosine_with_warmup(schedule: Any, counts: Any, steps: int) -> np.ndarray:
    """CosineDecay.__call__ with a warm-up, on a tensor of steps: the same casts and clamp, then the
    schedule's own branch function that ``ops.cond`` picks (``step < warmup_steps``: the warm-up).

    The warm-up branch has no transcendental op (a product and a sum), so it is evaluated on all its
    steps at once; the decay branch (a cosine) on :data:`CHUNK` steps at a time."""
    ops = keras_module().ops
    initial = ops.convert_to_tensor(schedule.initial_learning_rate)
    dtype = initial.dtype
    decay_steps = ops.cast(schedule.decay_steps, dtype)
    target = ops.cast(schedule.warmup_target, dtype)
    warmup_steps = ops.cast(schedule.warmup_steps, dtype)
    recomp = ops.minimum(ops.cast(counts, dtype), decay_steps + warmup_steps)
    warm = int(np.count_nonzero(to_numpy(recomp < warmup_steps)))  # recomp increases: the warm-up rows lead
    out = np.empty(steps, dtype=np.float32)
    if warm:
        out[:warm] = to_numpy(schedule._warmup_function(recomp[:warm], warmup_steps, target, initial))
    out[warm:] = _chunked(
        lambda s: schedule._decay_function(s - warmup_steps, decay_steps, target, dtype), recomp[warm:], steps - warm
    )
    return out


def _piecewise(schedule: Any, steps: int, dtype: str) -> np.ndarray:
    """PiecewiseConstantDecay, called with a 0-d step at the first step of each stretch between
    boundaries that the run reaches (strictly increasing boundaries: lrlab's rule)."""
    ops = keras_module().ops
    t = np.arange(steps)
    stretch = np.searchsorted(np.asarray(schedule.boundaries), t, side="left")  # boundaries[i-1] < t <= boundaries[i]
    out = np.empty(steps, dtype=np.float32)
    for index in np.unique(stretch):
        where = stretch == index
        first = int(t[where][0])
        out[where] = to_numpy(schedule(ops.convert_to_tensor(first, dtype=dtype)))
    return out


def to_numpy(value: Any) -> np.ndarray:
    """A schedule's result as numpy: a torch tensor directly (Keras's ``convert_to_numpy`` goes through
    ``np.array(tensor)``, which makes numpy 2 warn about torch's ``__array__``), other backends' via Keras."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(keras_module().ops.convert_to_numpy(value))


def serialized(schedule: Any) -> dict[str, Any]:
    """``keras.optimizers.schedules.serialize(schedule)``: Keras's own dict for the schedule."""
    return keras_module().optimizers.schedules.serialize(schedule)
