"""The super-network's training precision: bf16 autocast on CUDA and on CPUs with AMX, fp32
elsewhere or when asked; weights and gradients stay fp32."""
import pytest
import torch
from torch import nn

from nagui.supernet.precision import PRECISION_ENV, autocast_dtype, cpu_has_amx, precision_name


def test_bf16_on_cuda_and_on_a_cpu_with_amx_else_fp32(monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert autocast_dtype("cuda") is torch.bfloat16 and precision_name("cuda") == "bf16 autocast (cuda)"
    if cpu_has_amx():
        assert autocast_dtype("cpu") is torch.bfloat16 and precision_name("cpu") == "bf16 autocast (cpu, AMX)"
    else:
        assert autocast_dtype("cpu") is None and precision_name("cpu") == "fp32"


def test_fp32_when_asked_and_a_clear_error_for_anything_else(monkeypatch):
    monkeypatch.setenv(PRECISION_ENV, "FP32")
    assert autocast_dtype("cpu") is None and autocast_dtype("cuda") is None and precision_name("cuda") == "fp32"
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match=r"NAGUI_TRAIN_PRECISION='fp16': choose one of auto, fp32"):
        autocast_dtype("cpu")


def test_a_cpu_bf16_autocast_step_keeps_fp32_weights_and_gradients():
    """What the trainer does on a CPU with AMX (run here on any CPU: bf16 is slower without
    AMX, not wrong): the convolution computes in bf16, the loss, weights and gradients are fp32."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(8, 10))
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        conv_out = net[0](x)
        loss = nn.functional.cross_entropy(net(x).float(), y)
    assert conv_out.dtype is torch.bfloat16 and loss.dtype is torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert all(p.dtype is torch.float32 and p.grad is not None and p.grad.dtype is torch.float32
               for p in net.parameters())
