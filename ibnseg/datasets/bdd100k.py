"""BDD100K 10K semantic segmentation (Yu et al., CVPR 2020)."""
from mmseg.datasets import BDD100KDataset
from mmseg.registry import DATASETS

from .label_source import LabelSourceMixin
from .layouts import BDD100K_LAYOUTS, describe_layout, layout_options

SPLITS = ('train', 'val')
LAYOUTS = ('auto', ) + tuple(BDD100K_LAYOUTS)


@DATASETS.register_module()
class BDD100KSegDataset(LabelSourceMixin, BDD100KDataset):
    """mmseg's ``BDD100KDataset`` in either published layout
    (``BDD100K_LAYOUTS``, data/README.md), whose labels are trainIds.

    Args:
        split (str): 'train' or 'val' (the test labels are not published).
        layout (str): 'auto' (the layout ``data_root`` holds, '10k' when
            both, as mmseg's configs), '10k' or 'seg'.
        **kwargs: ``LabelSourceMixin`` and ``BaseSegDataset`` options but
            ``data_prefix`` and the suffixes.
    """
    LAYOUT = 'BDD100K'

    def __init__(self,
                 split: str = 'train',
                 layout: str = 'auto',
                 **kwargs) -> None:
        self._check_choice('split', split, SPLITS,
                           ' (the test labels are not published)')
        self._check_choice('layout', layout, LAYOUTS)
        self._refuse_derived_layout(
            kwargs, 'layout and split',
            f'; give layout= ({", ".join(LAYOUTS)}) instead')
        self.split = split
        self.layout = layout if layout != 'auto' else self._detect_layout(
            kwargs.get('data_root'),
            {n: s['img_dir'].format(split=split)
             for n, s in BDD100K_LAYOUTS.items()},
            [describe_layout(n, s) for n, s in BDD100K_LAYOUTS.items()],
            'BDD100K layout')
        spec = BDD100K_LAYOUTS[self.layout]
        self.LAYOUT = (f'BDD100K (layout {describe_layout(self.layout, spec)}'
                       f', split {split!r})')
        super().__init__(
            label_format='train_ids',
            **layout_options(spec, split),
            **kwargs)
