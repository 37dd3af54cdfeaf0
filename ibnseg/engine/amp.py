"""``--amp`` on CPU: mmengine's ``AmpOptimWrapper`` needs a GPU and its
``GradScaler`` is for float16; on CPU torch autocasts to bfloat16, which
needs no loss scaling."""
from contextlib import contextmanager
from typing import Optional

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from mmseg.registry import OPTIM_WRAPPERS

__all__ = ['CPUAmpOptimWrapper', 'cpu_bf16_autocast_problem']


def cpu_bf16_autocast_problem() -> Optional[str]:
    """Why this torch cannot autocast to bfloat16 on CPU, or None."""
    try:
        with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
            out = torch.nn.functional.linear(torch.ones(1, 2),
                                             torch.ones(2, 2))
    except (RuntimeError, TypeError, AttributeError) as error:
        return f'torch {torch.__version__} cannot: {error}'
    if out.dtype != torch.bfloat16:
        return (f'torch {torch.__version__} does not autocast to bfloat16 '
                'on CPU')
    return None


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward passes run under bfloat16 autocast on
    CPU (torch keeps precision-sensitive ops such as norms and losses in
    float32); gradients and parameters stay float32."""

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=torch.bfloat16):
            yield
