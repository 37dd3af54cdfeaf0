"""``tools/test.py --tta`` on every domain, each with its own test pipeline
(loading, resolution, labels): :func:`tta_pipeline_for`."""
import copy
from typing import List

from .sizes import RESIZES, step_type

__all__ = ['tta_pipeline_for']

_AUGMENTATIONS = RESIZES + ('RandomFlip', )


def tta_pipeline_for(test_pipeline: List[dict], tta_pipeline: List[dict],
                     where: str = 'test pipeline') -> List[dict]:
    """A domain's ``test_pipeline`` up to its resize, then one
    ``TestTimeAug`` over ``tta_pipeline``'s resize (ratios of that scale)
    and flip choices and the rest of ``test_pipeline``; ValueError (naming
    ``where``) without such choices or for an augmented ``test_pipeline``.
    """
    augs = [step for step in tta_pipeline if step_type(step) == 'TestTimeAug']
    choices = [copy.deepcopy(list(options))
               for step in augs for options in step.get('transforms', ())
               if options and all(step_type(o) in _AUGMENTATIONS
                                  for o in options)]
    if not choices:
        raise ValueError(
            'tta_pipeline needs a TestTimeAug step whose transforms hold '
            "resize and flip choices, e.g. [[dict(type='Resize', "
            "scale_factor=r, keep_ratio=True) for r in ratios], "
            "[dict(type='RandomFlip', prob=0.), dict(type='RandomFlip', "
            'prob=1.)], ...]')
    if any(step_type(step) == 'TestTimeAug' for step in test_pipeline):
        raise ValueError(f'{where} already has a TestTimeAug step')
    resizes = [i for i, step in enumerate(test_pipeline)
               if step_type(step) in RESIZES]
    loads = [i for i, step in enumerate(test_pipeline)
             if step_type(step) == 'LoadImageFromFile']
    split = (resizes[-1] if resizes else loads[0] if loads else -1) + 1
    head = copy.deepcopy(test_pipeline[:split])
    tail = [[copy.deepcopy(step)] for step in test_pipeline[split:]]
    return head + [dict(type='TestTimeAug', transforms=choices + tail)]
