"""Training units: optimizer steps from epochs, dataset size, batch size, accumulation and devices.

The count follows what PyTorch's data loading does: each device sees ``ceil(N / devices)`` samples
per epoch (``DistributedSampler`` pads the last round) or ``floor`` with ``drop_last``; its
``DataLoader`` yields ``ceil`` (or, with ``drop_last``, ``floor``) of that over the batch size; and
with gradient accumulation the optimizer steps once every ``grad_accum`` micro-batches, plus once for
a partial group at the end of the epoch (as the Hugging Face Trainer and Lightning do).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrlab.specs import MAX_STEPS, LrlabError, invalid


@dataclass(frozen=True)
class TrainingUnits:
    """How a training run is sized. All counts are per epoch unless named ``total``."""

    epochs: int
    dataset_size: int
    batch_size: int  # per device, per micro-batch
    grad_accum: int = 1
    devices: int = 1
    drop_last: bool = False
    seq_len: int | None = None  # tokens per sample, for a tokens axis

    def __post_init__(self) -> None:
        for name in ("epochs", "dataset_size", "batch_size", "grad_accum", "devices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**12:
                raise invalid(name, value, "must be a positive integer")
        if self.seq_len is not None and (not isinstance(self.seq_len, int) or self.seq_len < 1):
            raise invalid("seq_len", self.seq_len, "must be a positive integer or empty")
        if self.batches_per_epoch == 0:
            raise LrlabError(
                f"Invalid batch_size ({self.batch_size}): with drop_last, {self.dataset_size} samples over "
                f"{self.devices} device(s) make no full batch",
                field="batch_size",
            )
        if self.total_steps > MAX_STEPS:
            raise LrlabError(
                f"Invalid epochs ({self.epochs}): the run would have {self.total_steps:,} optimizer steps, "
                f"at most {MAX_STEPS:,} are allowed",
                field="epochs",
            )

    @property
    def samples_per_device(self) -> int:
        split = self.dataset_size / self.devices
        return math.floor(split) if self.drop_last else math.ceil(split)

    @property
    def batches_per_epoch(self) -> int:
        """Micro-batches per epoch on each device (``len(dataloader)``)."""
        per = self.samples_per_device / self.batch_size
        return math.floor(per) if self.drop_last else math.ceil(per)

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch: one per ``grad_accum`` micro-batches, a partial group included."""
        return math.ceil(self.batches_per_epoch / self.grad_accum)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def samples_per_step(self) -> int:
        """Samples consumed by one optimizer step across all devices (the effective batch size)."""
        return self.batch_size * self.grad_accum * self.devices

    @property
    def micro_batches(self) -> int:
        """Micro-batches over the whole run: what a schedule counts if it is stepped per micro-batch."""
        return self.epochs * self.batches_per_epoch
