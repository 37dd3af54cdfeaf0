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

    Each frame uses its ``_labelTrainIds.png`` (as DAFormer's
    tools/convert_datasets/synthia.py writes them) when it exists, else its
    raw label: ``LoadLabelIdAnnotations`` then decodes it keeping 16 bits,
    takes the class id from the first channel and maps it with SYNTHIA's
    table (``ibnseg.datasets.labels.SYNTHIA_ID_TO_TRAIN_ID``; unknown ids ->
    255). mmseg's plain ``LoadAnnotations`` would read such a file with PIL,
    which keeps the high byte of each channel (all zeros): a frame loaded
    without ``LoadLabelIdAnnotations`` raises.

    SYNTHIA has no terrain, truck or train pixels: results are read over
    ``SYNTHIA_16_CLASSES`` / ``SYNTHIA_13_CLASSES`` (labels.py).

    Everything else (split files, seeded subset, skip report, first-pass
    check, errors) is ``GTA5Dataset``'s.

    Args:
        split (str, optional): Text file of frame ids ('7' or '0000007'),
            relative to ``data_root`` unless absolute; None (default) uses
            every image in ``RGB/``.
        label_format, subset, skip_report, first_pass, first_pass_cache,
            first_pass_max_pixels, img_suffix, seg_map_suffix,
            label_ids_suffix, data_prefix, **kwargs: As in ``GTA5Dataset``,
            with SYNTHIA's folders and suffixes as defaults.
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
                 label_ids_suffix: str = SYNTHIA_LABEL_IDS_SUFFIX,
                 data_prefix: dict = dict(
                     img_path=SYNTHIA_IMG_DIR,
                     seg_map_path=SYNTHIA_LABEL_DIR),
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            label_ids_suffix=label_ids_suffix,
            data_prefix=data_prefix,
            **kwargs)
