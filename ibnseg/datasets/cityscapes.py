"""Cityscapes that can train from ``_gtFine_labelIds.png``."""
from typing import Optional

from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .first_pass import DEFAULT_MAX_PIXELS
from .label_source import LabelSourceMixin
from .labels import CITYSCAPES_LABEL_ID_TABLE
from .layouts import (CITYSCAPES_IMG_SUFFIX, CITYSCAPES_LABEL_IDS_SUFFIX,
                      CITYSCAPES_TRAIN_IDS_SUFFIX)


@DATASETS.register_module()
class CityscapesLabelIdsDataset(LabelSourceMixin, CityscapesDataset):
    """mmseg's ``CityscapesDataset`` that also reads raw label ids.

    mmseg trains on ``_gtFine_labelTrainIds.png``, which must first be made
    with a converter. This dataset uses, per image, the trainId file when it
    exists and otherwise the official ``_gtFine_labelIds.png``, mapped to
    trainIds at load time by the ``LoadLabelIdAnnotations`` transform,
    which the pipeline then needs in place of ``LoadAnnotations`` (a sample
    loaded without it raises). Listing, ``ann_file``, classes and palette
    are mmseg's.
    A ``_gtFine_labelIds.png`` holding 255 (no Cityscapes label id is 255:
    a trainId map under the label-id name) fails when loaded, naming it.

    Args:
        label_format (str): 'auto' (default; as above), 'train_ids' (only
            converted files, like mmseg) or 'label_ids' (only raw files).
        subset (dict, optional): A seeded fine-tuning subset:
            ``dict(fraction=0.1, seed=0)`` or ``dict(count=300, seed=0)``,
            optional ``save_to='path.txt'`` writes the names finally used
            (in mmseg ``ann_file`` form, 'city/city_seq_frame').
        skip_report (str, optional): A skip report (see
            ``ibnseg.datasets.skip_report``) relative to ``data_root``
            unless absolute; None (default) uses none.
        first_pass (bool): At construction, drop (with one warning naming
            a report) pairs whose image and label sizes differ or whose
            files are truncated or unreadable, found from file headers and
            tails and cached (``ibnseg.datasets.first_pass``). Defaults to
            True.
        first_pass_cache (str, optional): Folder of the first-pass cache;
            None: ``data_root`` if writable, else under ``$IBNSEG_CACHE``.
        first_pass_max_pixels (int, optional): The first pass refuses, at
            construction and naming it, an image or label of more pixels
            (default ``DEFAULT_MAX_PIXELS`` of ``ibnseg.datasets.first_pass``,
            about 9459x9459); None: any size. It refuses a label PNG of
            another bit depth than 8 too.
        label_ids_suffix (str): Suffix of raw label-id files.
        img_suffix (str), seg_map_suffix (str): As in mmseg's dataset.
        **kwargs: Other ``BaseSegDataset`` arguments.
    """
    LAYOUT = 'Cityscapes'
    LABEL_ID_TABLE = CITYSCAPES_LABEL_ID_TABLE

    def __init__(self,
                 label_format: str = 'auto',
                 subset: Optional[dict] = None,
                 skip_report: Optional[str] = None,
                 first_pass: bool = True,
                 first_pass_cache: Optional[str] = None,
                 first_pass_max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 img_suffix: str = CITYSCAPES_IMG_SUFFIX,
                 seg_map_suffix: str = CITYSCAPES_TRAIN_IDS_SUFFIX,
                 label_ids_suffix: str = CITYSCAPES_LABEL_IDS_SUFFIX,
                 **kwargs) -> None:
        self._init_label_source(label_format, label_ids_suffix, subset,
                                skip_report, first_pass, first_pass_cache,
                                first_pass_max_pixels)
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
