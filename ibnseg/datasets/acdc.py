"""ACDC, the Adverse Conditions Dataset with Correspondences (Sakaridis et
al., ICCV 2021), one weather condition per dataset."""
from typing import Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .first_pass import DEFAULT_MAX_PIXELS
from .label_source import LabelSourceMixin
from .labels import CITYSCAPES_LABEL_ID_TABLE, CLASSES, PALETTE
from .layouts import (ACDC_CONDITIONS, ACDC_IMG_DIR, ACDC_IMG_SUFFIX,
                      ACDC_LABEL_DIR, ACDC_LABEL_IDS_SUFFIX,
                      ACDC_TRAIN_IDS_SUFFIX)

SPLITS = ('train', 'val')


@DATASETS.register_module()
class ACDCDataset(LabelSourceMixin, BaseSegDataset):
    """One condition of ACDC, with the 19 Cityscapes classes.

    Layout (see data/README.md)::

        rgb_anon/{condition}/{split}/<seq>/<name>_rgb_anon.png
        gt/{condition}/{split}/<seq>/<name>_gt_labelTrainIds.png
        gt/{condition}/{split}/<seq>/<name>_gt_labelIds.png

    ACDC's labels follow Cityscapes: each frame uses its
    ``_gt_labelTrainIds.png`` and, where that is missing (``label_format=
    'auto'``), its ``_gt_labelIds.png``, mapped with the Cityscapes table by
    ``LoadLabelIdAnnotations``. A ``_gt_labelIds.png`` holding 255 (no
    label id is 255) fails when loaded, naming it. Seeded subsets, skip
    report and first-pass check as in ``CityscapesLabelIdsDataset``.

    Args:
        condition (str): 'fog', 'night', 'rain' or 'snow'.
        split (str): 'train' or 'val' (the test labels are withheld: the
            DG literature evaluates on val).
        label_format (str): 'auto', 'train_ids' or 'label_ids'.
        subset (dict, optional), skip_report (str, optional),
            first_pass (bool), first_pass_cache (str, optional),
            first_pass_max_pixels (int, optional): As in
            ``CityscapesLabelIdsDataset``.
        **kwargs: Other ``BaseSegDataset`` arguments; ``data_prefix`` and
            the suffixes follow from ``condition`` and ``split``.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)
    LABEL_ID_TABLE = CITYSCAPES_LABEL_ID_TABLE

    def __init__(self,
                 condition: str = 'fog',
                 split: str = 'val',
                 label_format: str = 'auto',
                 subset: Optional[dict] = None,
                 skip_report: Optional[str] = None,
                 first_pass: bool = True,
                 first_pass_cache: Optional[str] = None,
                 first_pass_max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 **kwargs) -> None:
        self._check_choice('condition', condition, ACDC_CONDITIONS)
        self._check_choice('split', split, SPLITS,
                           ' (the test labels are withheld)')
        self._refuse_derived_layout(kwargs, 'condition and split')
        self.condition = condition
        self.split = split
        img_dir = ACDC_IMG_DIR.format(condition=condition, split=split)
        label_dir = ACDC_LABEL_DIR.format(condition=condition, split=split)
        self.LAYOUT = (f'ACDC ({img_dir}/<seq>/*{ACDC_IMG_SUFFIX} + '
                       f'{label_dir}/<seq>/*{ACDC_TRAIN_IDS_SUFFIX} or '
                       f'*{ACDC_LABEL_IDS_SUFFIX})')
        self._init_label_source(label_format, ACDC_LABEL_IDS_SUFFIX, subset,
                                skip_report, first_pass, first_pass_cache,
                                first_pass_max_pixels)
        super().__init__(
            img_suffix=ACDC_IMG_SUFFIX,
            seg_map_suffix=ACDC_TRAIN_IDS_SUFFIX,
            data_prefix=dict(img_path=img_dir, seg_map_path=label_dir),
            **kwargs)
