"""Where an IBN-Net variant puts Instance Normalization, resolved per stage
once, before any layer is built."""
from collections import namedtuple
from dataclasses import dataclass
from typing import Optional, Tuple

from ..arg_checks import check_bools, check_choice, check_int, check_number

# What each variant of the paper changes (see IBNResNet's docstring):
#   block_norms: indices k of the block norms ``normk`` that become IBN
#   parallel:    every block's norm1 becomes IN and BN side by side (IBN-c)
#   post_add:    IN after the residual addition of a stage's last block, on
#                'all' channels or on the IBN 'ratio' slice
#   stem:        the stem's norm becomes 'IN' or an 'IBN' layer
_Variant = namedtuple('_Variant', 'block_norms parallel post_add stem',
                      defaults=((), False, None, None))
VARIANTS = {
    None: _Variant(),
    'a': _Variant(block_norms=(1, )),
    'b': _Variant(post_add='all', stem='IN'),
    'c': _Variant(parallel=True),
    'd': _Variant(post_add='ratio', stem='IBN'),
    'a&d': _Variant(block_norms=(1, ), post_add='ratio', stem='IBN'),
    'ax2': _Variant(block_norms=(1, 2)),
}
# The paper's stages: the in-block part in stages 1-3, the post-addition
# part in stages 1-2.
_IN_BLOCK_STAGES = (True, True, True, False)
_POST_ADD_STAGES = (True, True, False, False)


@dataclass(frozen=True)
class StageLayout:
    """The IN of one stage (the default: none, a plain ResNet stage).

    Args:
        block_norms (tuple[int]): Indices ``k`` of the norms ``normk`` of
            every block that are :class:`~ibnseg.models.layers.IBN` layers.
        ratio (float): IN fraction of those IBN layers.
        parallel (bool): Every block's ``norm1`` is a
            :class:`~ibnseg.models.layers.ParallelIBN` (IBN-c).
        post_add_ratio (float, optional): IN after the residual addition of
            the stage's last block, on ``int(C * post_add_ratio)`` channels;
            None for none.
    """

    block_norms: Tuple[int, ...] = ()
    ratio: float = 0.5
    parallel: bool = False
    post_add_ratio: Optional[float] = None

    @property
    def has_in(self):
        return bool(self.block_norms or self.parallel or self.post_add_ratio)


@dataclass(frozen=True)
class IBNLayout:
    """The IN of a whole IBN ResNet: the stem's norm and each stage's.

    Args:
        stem (str, optional): The stem's norm: ``'IN'`` (affine IN),
            ``'IBN'`` (an IBN layer with ``ratio``) or None (unchanged).
        ratio (float): The IBN ratio of the variant.
        stages (tuple[StageLayout]): One per stage.
    """

    stem: Optional[str]
    ratio: float
    stages: Tuple[StageLayout, ...]

    @property
    def has_in(self):
        return self.stem is not None or any(s.has_in for s in self.stages)

    @classmethod
    def resolve(cls, owner, ibn, ratio, ibn_stages, num_stages):
        """The layout of variant ``ibn`` (see :class:`IBNResNet`), checking
        the options and naming ``owner`` in errors.

        ``ibn_stages`` (one flag per stage) replaces the paper's stages of
        every part of the variant; None keeps them.
        """
        check_choice(owner, 'ibn', ibn, tuple(VARIANTS))
        check_number(owner, 'ibn_ratio', ratio, 0, 1)
        num_stages = check_int(owner, 'num_stages', num_stages, minimum=1,
                               maximum=4)
        if ibn_stages is not None:
            ibn_stages = check_bools(owner, 'ibn_stages', ibn_stages,
                                     num_stages)
        variant = VARIANTS[ibn]
        if variant.post_add == 'ratio' and ratio == 0:
            raise ValueError(f'{owner}: ibn={ibn!r} needs ibn_ratio > 0')
        in_block = ibn_stages or _IN_BLOCK_STAGES[:num_stages]
        post_add = ibn_stages or _POST_ADD_STAGES[:num_stages]
        post_add_ratio = {None: None, 'all': 1.0, 'ratio': ratio}[
            variant.post_add]
        stages = tuple(
            StageLayout(
                block_norms=variant.block_norms if in_block[i] else (),
                ratio=ratio,
                parallel=variant.parallel and in_block[i],
                post_add_ratio=post_add_ratio if post_add[i] else None)
            for i in range(num_stages))
        return cls(stem=variant.stem, ratio=ratio, stages=stages)
