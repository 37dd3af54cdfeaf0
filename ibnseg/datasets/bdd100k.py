"""BDD100K 10K semantic segmentation (Yu et al., CVPR 2020) as an ibnseg
domain: mmseg's ``BDD100KDataset`` with both published layouts, a split
argument and ibnseg's checks."""
from mmseg.datasets import BDD100KDataset
from mmseg.registry import DATASETS

from .label_source import LabelSourceMixin
from .layouts import BDD100K_LAYOUTS, describe_layout, layout_options

SPLITS = ('train', 'val')
LAYOUTS = ('auto', ) + tuple(BDD100K_LAYOUTS)


@DATASETS.register_module()
class BDD100KSegDataset(LabelSourceMixin, BDD100KDataset):
    """BDD100K's 10K semantic-segmentation images with their trainId labels.

    BDD100K publishes the labels as Cityscapes trainIds (0..18, 255), in one
    of two layouts (see data/README.md)::

        '10k' (current):  images/10k/{split}/<name>.jpg
                          labels/sem_seg/masks/{split}/<name>.png
        'seg' (older):    seg/images/{split}/<name>.jpg
                          seg/labels/{split}/<name>_train_id.png

    Classes and palette are mmseg's ``BDD100KDataset`` (the 19 Cityscapes
    classes); ``LoadLabelIdAnnotations`` checks that the labels hold
    trainIds.

    Args:
        split (str): 'train' (7,000 images) or 'val' (1,000); the test
            split's labels are not published.
        layout (str): 'auto' (default: whichever layout ``data_root``
            holds for ``split``, the '10k' one when both), '10k' or 'seg'.
        **kwargs: ``LabelSourceMixin`` options (``subset``,
            ``skip_report``, ``first_pass``, ...) and ``BaseSegDataset``
            ones; ``data_prefix`` and the suffixes follow from ``layout``
            and ``split``.
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
        # both present: the current download wins, as mmseg's configs use it
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
            label_format='train_ids',  # BDD100K publishes trainIds only
            **layout_options(spec, split),
            **kwargs)
