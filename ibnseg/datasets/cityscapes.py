"""Cityscapes that can train from ``_gtFine_labelIds.png``."""
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .label_source import LabelSourceMixin
from .labels import CITYSCAPES_LABEL_ID_TABLE
from .layouts import (CITYSCAPES_IMG_SUFFIX, CITYSCAPES_LABEL_IDS_SUFFIX,
                      CITYSCAPES_TRAIN_IDS_SUFFIX)


@DATASETS.register_module()
class CityscapesLabelIdsDataset(LabelSourceMixin, CityscapesDataset):
    """mmseg's ``CityscapesDataset`` that also reads the official
    ``_gtFine_labelIds.png`` where no ``_gtFine_labelTrainIds.png`` exists;
    sample names are in ``ann_file`` form ('city/city_seq_frame').

    Args:
        img_suffix (str), seg_map_suffix (str): As in mmseg's dataset.
        **kwargs: ``LabelSourceMixin`` and ``BaseSegDataset`` options.
    """
    LAYOUT = 'Cityscapes'
    LABEL_ID_TABLE = CITYSCAPES_LABEL_ID_TABLE

    def __init__(self,
                 img_suffix: str = CITYSCAPES_IMG_SUFFIX,
                 seg_map_suffix: str = CITYSCAPES_TRAIN_IDS_SUFFIX,
                 **kwargs) -> None:
        kwargs.setdefault('label_ids_suffix', CITYSCAPES_LABEL_IDS_SUFFIX)
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
