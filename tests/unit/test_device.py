"""The one device choice, shared by the classifier and the trainer (alone or under torchrun)."""

from __future__ import annotations

import pytest
import torch

from ast_core.accel.device import pick_device


@pytest.fixture
def machine(monkeypatch):
    """Pretend which accelerators torch sees: machine(cuda=..., mps=...)."""

    def set_up(cuda: bool, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_up


@pytest.mark.parametrize(
    ("cuda", "mps", "local_rank", "expected"),
    [
        (True, True, None, torch.device("cuda")),
        (True, False, 2, torch.device("cuda", 2)),
        (False, True, None, torch.device("mps")),
        (False, True, 0, torch.device("cpu")),  # MPS has no process-group backend
        (False, False, None, torch.device("cpu")),
    ],
)
def test_the_best_available_device(machine, cuda, mps, local_rank, expected):
    machine(cuda=cuda, mps=mps)
    assert pick_device(None, local_rank) == expected


def test_a_named_device_is_kept_and_a_bare_cuda_pinned_per_rank(machine):
    machine(cuda=False, mps=False)  # a preference is taken as given, available or not
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    assert pick_device("cuda:1", local_rank=3) == torch.device("cuda", 1)
    assert pick_device("cuda") == torch.device("cuda")
    assert pick_device("cuda", local_rank=3) == torch.device("cuda", 3)
    assert pick_device("cpu", local_rank=3) == torch.device("cpu")
