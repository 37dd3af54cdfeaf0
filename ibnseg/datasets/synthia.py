"""SYNTHIA RAND-CITYSCAPES (Ros et al., CVPR 2016) as an ibnseg domain."""
from mmseg.registry import DATASETS

from .gta5 import GTA5Dataset
from .labels import SYNTHIA_LABEL_ID_TABLE
from .layouts import (SYNTHIA_IMG_DIR, SYNTHIA_IMG_SUFFIX, SYNTHIA_LABEL_DIR,
                      SYNTHIA_LABEL_IDS_SUFFIX, SYNTHIA_TRAIN_IDS_SUFFIX)


def synthia_id(index) -> str:
    """The file stem of SYNTHIA frame ``index`` (``7`` -> ``'0000007'``);
    stems that are not numbers are returned unchanged."""
    text = str(index).strip()
    return f'{int(text):07d}' if text.isdigit() else text


@DATASETS.register_module()
class SynthiaDataset(GTA5Dataset):
    """SYNTHIA RAND-CITYSCAPES with the 19 Cityscapes classes.

    Layout (see data/README.md)::

        data_root/RGB/0000000.png                     RGB frame (1280x760)
        data_root/GT/LABELS/0000000.png               16-bit, 3 channels:
                                                      class id, instance id
        data_root/GT/LABELS/0000000_labelTrainIds.png converted trainIds
        data_root/splits/{train,val}.txt              optional frame lists

    A raw label is decoded keeping 16 bits and its first channel mapped
    with SYNTHIA's table (``ibnseg.datasets.labels.SYNTHIA_ID_TO_TRAIN_ID``)
    where no ``_labelTrainIds.png`` (DAFormer's converter) exists. SYNTHIA
    has no terrain, truck or train pixels: results are read over
    ``SYNTHIA_16_CLASSES`` / ``SYNTHIA_13_CLASSES`` (labels.py).

    Args:
        split (str, optional): Text file of frame ids ('7' or '0000007'),
            as in ``GTA5Dataset``.
        img_suffix, seg_map_suffix, data_prefix, **kwargs: As in
            ``GTA5Dataset``, with SYNTHIA's layout as defaults.
    """
    SKIP_REPORT_TOOL = None  # no converter writes one
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
