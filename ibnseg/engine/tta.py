"""``tools/test.py --tta``: mmseg's test-time augmentation on every domain.

mmseg's ``--tta`` puts the config's ``tta_pipeline`` into
``test_dataloader`` and wraps the model in ``tta_model``. ibnseg's configs
test every domain of their ``cross_domain`` section, each with its own
loading, resolution and labels, so one pipeline cannot serve them all.
:func:`tta_pipeline_for` builds each domain's from its own test pipeline and
the augmentations of ``tta_pipeline``: the domain's steps up to its resize
(its test scale, or ``--scale``), then ``TestTimeAug`` over the
``tta_pipeline``'s resize and flip choices (ratios of that scale), then the
domain's own later steps (its label loading, its packing) in the same
``TestTimeAug``.
"""
import copy
from typing import List

from .sizes import RESIZES, step_type

__all__ = ['tta_pipeline_for']

_AUGMENTATIONS = RESIZES + ('RandomFlip', )


def tta_pipeline_for(test_pipeline: List[dict], tta_pipeline: List[dict],
                     where: str = 'test pipeline') -> List[dict]:
    """``test_pipeline`` with ``tta_pipeline``'s augmentations.

    Args:
        test_pipeline (list[dict]): A domain's test pipeline, e.g.
            ``[LoadImageFromFile, Resize(scale), LoadLabelIdAnnotations,
            PackSegInputs]``.
        tta_pipeline (list[dict]): mmseg's form: a ``TestTimeAug`` step whose
            ``transforms`` lists hold the resize choices (``scale_factor``:
            ratios of the domain's scale) and the flip choices; its other
            lists (label loading, packing) are the domain's own here.
        where (str): Names the pipeline in errors.

    Raises:
        ValueError: ``tta_pipeline`` has no ``TestTimeAug`` with resize or
            flip choices, or ``test_pipeline`` is itself augmented.
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
