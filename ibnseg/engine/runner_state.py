"""What a Runner has built, read without building it."""
from typing import Optional

from mmengine.runner import BaseLoop


def built_train_loop(runner) -> Optional[BaseLoop]:
    """The runner's training loop if built, else None: mmengine's
    ``runner.train_loop`` (and ``runner.iter``) would build it and its
    dataset, which testing must not need, and nothing public tells."""
    loop = getattr(runner, '_train_loop', None)
    return loop if isinstance(loop, BaseLoop) else None
