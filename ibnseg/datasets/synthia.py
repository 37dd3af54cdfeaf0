"""SYNTHIA RAND-CITYSCAPES (Ros et al., CVPR 2016) as an ibnseg domain."""
from mmseg.registry import DATASETS

from .gta5 import GTA5Dataset
from .labels import SYNTHIA_LABEL_ID_TABLE
from .layouts import (SYNTHIA_IMG_DIR, SYNTHIA_IMG_SUFFIX, SYNTHIA_LABEL_DIR,
                      SYNTHIA_LABEL_IDS_SUFFIX, SYNTHIA_TRAIN_IDS_SUFFIX)


def synthia_id(index) -> str:
    """The file stem of SYNTHIA frame ``index`` (``7`` -> ``'0000007'``)."""
    text = str(index).strip()
    return f'{int(text):07d}' if text.isdigit() else text


@DATASETS.register_module()
class SynthiaDataset(GTA5Dataset):
    """SYNTHIA RAND-CITYSCAPES with the 19 Cityscapes classes:
    ``RGB/0000000.png``, its 16-bit label ``GT/LABELS/0000000.png`` (class
    id in the first channel, mapped by ``SYNTHIA_LABEL_ID_TABLE``) or the
    converted ``GT/LABELS/0000000_labelTrainIds.png`` (data/README.md).
    Results are read over ``SYNTHIA_16_CLASSES`` or ``SYNTHIA_13_CLASSES``.

    Args:
        split, img_suffix, seg_map_suffix, data_prefix, **kwargs: As in
            ``GTA5Dataset``, SYNTHIA's layout by default (ids '0000007').
    """
    SKIP_REPORT_TOOL = None
    LABEL_ID_TABLE = SYNTHIA_LABEL_ID_TABLE
    LAYOUT = ('SYNTHIA RAND-CITYSCAPES (RGB/NNNNNNN.png + '
              'GT/LABELS/NNNNNNN.png)')

    SPLIT_HINT = ('expected one frame id per line, or split=None for every '
                  'frame')
    frame_id = staticmethod(synthia_id)

    def __init__(self,
                 img_suffix: str = SYNTHIA_IMG_SUFFIX,
                 seg_map_suffix: str = SYNTHIA_TRAIN_IDS_SUFFIX,
                 data_prefix: dict = dict(
                     img_path=SYNTHIA_IMG_DIR,
                     seg_map_path=SYNTHIA_LABEL_DIR),
                 **kwargs) -> None:
        kwargs.setdefault('label_ids_suffix', SYNTHIA_LABEL_IDS_SUFFIX)
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
