"""The training lab's data: small real tasks that ship inside a dependency (nothing is downloaded).

- ``digits``: scikit-learn's bundled handwritten digits (``load_digits``: 1,797 8×8 grey images,
  10 classes), the default.
- ``moons``: scikit-learn's two interleaving half-moons (``make_moons``, 1,000 points, noise 0.25),
  a 2-D toy that trains in a blink.

Both are split once, 80 % train / 20 % validation, stratified, with a fixed seed (0) that does not
depend on the run's seed: every run and every visitor sees the same split. Features are standardised
with the training part's mean and standard deviation (constant pixels are left at 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from lrlab.specs import invalid

DATASETS = ("digits", "moons")
SPLIT_SEED = 0
VALIDATION_SHARE = 0.2


@dataclass(frozen=True)
class Dataset:
    """Tensors of one task, ready for a model: ``x`` float32 (N, features), ``y`` int64 class ids."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    n_classes: int
    image_shape: tuple[int, int] | None  # (8, 8) for digits: lets a CNN reshape the flat features

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])


@cache
def _arrays(name: str) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits, make_moons
    from sklearn.model_selection import train_test_split

    if name == "digits":
        data = load_digits()
        x, y = data.data.astype(np.float64), data.target.astype(np.int64)
    else:
        x, y = make_moons(n_samples=1000, noise=0.25, random_state=SPLIT_SEED)
        y = y.astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_SHARE, stratify=y, random_state=SPLIT_SEED
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    arrays = ((x_train - mean) / std, y_train, (x_val - mean) / std, y_val)
    for a in arrays:
        a.flags.writeable = False
    return arrays


def train_size(name: str) -> int:
    """Examples in the named task's training split (no tensors built)."""
    if name not in DATASETS:
        raise invalid("dataset", name, "must be one of " + ", ".join(map(repr, DATASETS)))
    return len(_arrays(name)[1])


def load(name: str = "digits") -> Dataset:
    """The named task as fresh tensors (callers may modify them; the cached arrays stay intact)."""
    if name not in DATASETS:
        raise invalid("dataset", name, "must be one of " + ", ".join(map(repr, DATASETS)))
    x_train, y_train, x_val, y_val = _arrays(name)
    return Dataset(
        name=name,
        x_train=torch.tensor(x_train, dtype=torch.float32),
        y_train=torch.tensor(y_train),
        x_val=torch.tensor(x_val, dtype=torch.float32),
        y_val=torch.tensor(y_val),
        n_classes=int(y_train.max()) + 1,
        image_shape=(8, 8) if name == "digits" else None,
    )
