"""Where an IBN-Net variant puts Instance Normalization, resolved per stage
before any layer is built."""
from collections import namedtuple
from dataclasses import dataclass
from typing import Optional, Tuple

from ..arg_checks import check_bools, check_choice, check_int, check_number

# post_add: IN after the addition on 'all' channels or the 'ratio' slice.
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
# The paper's stages of the in-block part and of the post-addition part.
_IN_BLOCK_STAGES = (True, True, True, False)
_POST_ADD_STAGES = (True, True, False, False)


@dataclass(frozen=True)
class StageLayout:
    """The IN of one stage (default: none).

    Args:
        block_norms (tuple[int]): ``k`` of each block's IBN norms ``normk``.
        ratio (float): IN fraction of those IBN layers.
        parallel (bool): Every block's ``norm1`` is a ParallelIBN (IBN-c).
        post_add_ratio (float, optional): IN fraction after the last
            block's residual addition.
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
    """The IN of an IBN ResNet: ``stem`` (``'IN'``, ``'IBN'`` or None),
    the variant's IBN ``ratio`` and a :class:`StageLayout` per stage."""

    stem: Optional[str]
    ratio: float
    stages: Tuple[StageLayout, ...]

    @property
    def has_in(self):
        return self.stem is not None or any(s.has_in for s in self.stages)

    @classmethod
    def resolve(cls, owner, ibn, ratio, ibn_stages, num_stages):
        """The layout of variant ``ibn``; ``ibn_stages`` replaces the
        paper's stages of every part. Errors name ``owner``."""
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
