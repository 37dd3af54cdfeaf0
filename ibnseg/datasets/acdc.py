"""ACDC, the Adverse Conditions Dataset with Correspondences (Sakaridis et
al., ICCV 2021), one weather condition per dataset."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .label_source import LabelSourceMixin
from .labels import CITYSCAPES_LABEL_ID_TABLE, CLASSES, PALETTE
from .layouts import (ACDC_CONDITIONS, ACDC_IMG_DIR, ACDC_IMG_SUFFIX,
                      ACDC_LABEL_DIR, ACDC_LABEL_IDS_SUFFIX,
                      ACDC_TRAIN_IDS_SUFFIX)

SPLITS = ('train', 'val')


@DATASETS.register_module()
class ACDCDataset(LabelSourceMixin, BaseSegDataset):
    """One condition of ACDC with the Cityscapes classes and label table:
    ``rgb_anon/{condition}/{split}/<seq>/<name>_rgb_anon.png`` and
    ``gt/{condition}/{split}/<seq>/<name>_gt_labelTrainIds.png`` or
    ``_gt_labelIds.png`` (data/README.md).

    Args:
        condition (str): 'fog', 'night', 'rain' or 'snow'.
        split (str): 'train' or 'val' (the test labels are withheld).
        **kwargs: ``LabelSourceMixin`` and ``BaseSegDataset`` options but
            ``data_prefix`` and the suffixes.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)
    LABEL_ID_TABLE = CITYSCAPES_LABEL_ID_TABLE

    def __init__(self,
                 condition: str = 'fog',
                 split: str = 'val',
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
        super().__init__(
            label_ids_suffix=ACDC_LABEL_IDS_SUFFIX,
            img_suffix=ACDC_IMG_SUFFIX,
            seg_map_suffix=ACDC_TRAIN_IDS_SUFFIX,
            data_prefix=dict(img_path=img_dir, seg_map_path=label_dir),
            **kwargs)
