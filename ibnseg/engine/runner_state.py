"""What a Runner has built, read without building it."""
from typing import Optional

from mmengine.runner import BaseLoop


def built_train_loop(runner) -> Optional[BaseLoop]:
    """The runner's training loop if it is built, else None.

    mmengine 0.10.7's ``runner.train_loop`` (and so ``runner.iter``) builds
    the loop, with its training dataset, from its config, and nothing public
    says whether it is built: the attribute behind the property is read.
    Testing (``tools/test.py``) thus never needs the training data.
    """
    loop = getattr(runner, '_train_loop', None)
    return loop if isinstance(loop, BaseLoop) else None
