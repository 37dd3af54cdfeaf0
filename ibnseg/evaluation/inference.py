"""Loading a segmentor strictly, and what evaluating one produces.

:func:`load_strictly` is ibnseg's one way to put a checkpoint into a
segmentor (mmengine's ``load_checkpoint`` with ``strict=True`` behind
ibnseg's safe loading): the evaluation, the analysis tools and inference use
it, so a checkpoint of another model fails the same way everywhere.
"""
import copy
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np
from mmengine.config import Config
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper, revert_sync_batchnorm
from mmengine.runner import load_checkpoint
from mmseg.apis import init_model


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model its config builds."""


@dataclass
class DomainSample:
    """One sample to show: RGB image, ground truth and prediction (HxW)."""
    image: np.ndarray
    gt: np.ndarray
    pred: np.ndarray


@dataclass
class DomainRun:
    """What evaluating one model on its domains produced.

    Attributes:
        metrics (dict[str, float]): ``CrossDomainIoUMetric`` keys.
        dataset_meta (dict): Classes and palette of the domains.
        num_samples (dict[str, int]): Samples evaluated per domain row.
        samples (dict[str, list[DomainSample]]): The first few samples of
            each row (on the main process), for the sample strips.
    """
    metrics: Dict[str, float]
    dataset_meta: dict
    num_samples: Dict[str, int]
    samples: Dict[str, List[DomainSample]] = field(default_factory=dict)


def load_strictly(model, checkpoint: str, config: str) -> None:
    """Load ``checkpoint`` into ``model`` (unwrapped if wrapped), strictly.

    Raises:
        CheckpointMismatchError: Missing, unexpected or mis-shaped keys; the
            message names them, the checkpoint and ``config``.
    """
    if is_model_wrapper(model):
        model = model.module
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    except RuntimeError as error:
        if 'do not match' not in str(error):
            raise
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint} does not match the model of config '
            f'{config}:\n{error}') from None


def load_segmentor(cfg: Config, checkpoint: str, device: str = 'cpu'):
    """Build ``cfg.model`` and load ``checkpoint`` into it, strictly.

    Args:
        cfg (Config): The config (not modified).
        checkpoint (str): An mmengine checkpoint (``{'state_dict': ...}``)
            or a plain state dict.
        device (str): Where the model runs.

    Raises:
        CheckpointMismatchError: See :func:`load_strictly`.
    """
    cfg = copy.deepcopy(cfg)
    model = init_model(cfg, checkpoint=None, device='cpu')
    load_strictly(model, checkpoint, cfg.filename)
    if not is_distributed():
        # The Runner does this too: SyncBN needs a process group.
        model = revert_sync_batchnorm(model)
    return model.to(device).eval()
