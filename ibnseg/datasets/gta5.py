"""GTA5 (Richter et al., "Playing for Data", ECCV 2016) as an mmseg dataset."""
import os
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .labels import CLASSES, GTA5_LABEL_ID_TABLE, PALETTE
from .first_pass import DEFAULT_MAX_PIXELS
from .label_source import DATA_README, LabelSourceMixin
from .layouts import (GTA5_IMG_DIR, GTA5_IMG_SUFFIX, GTA5_LABEL_DIR,
                      GTA5_LABEL_IDS_SUFFIX, GTA5_TRAIN_IDS_SUFFIX, gta5_id)
from .skip_report import SKIP_REPORT_NAME
from .subsets import read_id_list


@DATASETS.register_module()
class GTA5Dataset(LabelSourceMixin, BaseSegDataset):
    """GTA5 with the 19 Cityscapes classes and palette.

    Layout (see data/README.md)::

        data_root/images/00001.png                  RGB frame
        data_root/labels/00001.png                  raw: palette PNG of label ids
        data_root/labels/00001_labelTrainIds.png    converted: trainIds
        data_root/skipped_pairs.tsv                 converter's skip report

    Which label file is used (``label_format``): with ``'auto'`` (default)
    each frame uses its ``_labelTrainIds.png`` when it exists, otherwise its
    raw label-id PNG, which the ``LoadLabelIdAnnotations`` transform maps
    to trainIds at load time (unknown ids -> 255). ``'train_ids'`` requires
    converted files, ``'label_ids'`` always reads the raw ones. Either way
    the result is the same trainId map; converting
    (tools/convert_gta5_labels.py) only saves the mapping at load time.
    When any frame uses raw labels the pipeline needs
    ``LoadLabelIdAnnotations`` in place of ``LoadAnnotations`` (a frame
    loaded without it raises).

    Frames listed in the skip report written by tools/convert_gta5_labels.py
    (image/label size mismatch, missing partner, unreadable file) are dropped
    with one warning giving their count and the report's path. Frames
    neither skipped nor present raise a ``FileNotFoundError`` at
    construction. Without the converter, the first-pass check finds the
    rest at construction: pairs of different sizes and truncated or
    unreadable files, from file headers and tails, in parallel, cached by
    (path, size, mtime) so a second start is instant; they are dropped with
    one warning naming a report of them (``ibnseg.datasets.first_pass``).

    Args:
        split (str, optional): Text file of frame ids, one per line ('1' or
            '00001'), e.g. splits/train.txt made by
            tools/gta5_split_from_mat.py. A relative path is taken from
            ``data_root`` (like mmseg's ``ann_file``), so moving the data
            root moves the splits with it. None uses every image in
            ``images/``.
        label_format (str): 'auto', 'train_ids' or 'label_ids' (see above).
        subset (dict, optional): A seeded fine-tuning subset of the frames
            (after ``split``, before the skip report is applied, so the same
            seed picks the same ids on every machine):
            ``dict(fraction=0.1, seed=0)`` or ``dict(count=500, seed=0)``,
            plus optional ``save_to='path.txt'`` to write the ids finally
            used (after the skip report), usable as a ``split`` file.
        skip_report (str, optional): The converter's report, relative to
            ``data_root`` unless absolute; a missing file means nothing is
            skipped. None ignores any report.
        first_pass (bool): Run the first-pass check (see above). Defaults
            to True; False finds broken pairs only when they are loaded.
        first_pass_cache (str, optional): Folder of the first-pass cache;
            None: ``data_root`` if writable, else under ``$IBNSEG_CACHE``
            (default ``~/.cache/ibnseg``).
        first_pass_max_pixels (int, optional): The first pass refuses, at
            construction and naming it, an image or label of more pixels
            (default ``DEFAULT_MAX_PIXELS`` of ``ibnseg.datasets.first_pass``,
            about 9459x9459); None: any size. It refuses a label PNG of
            another bit depth than 8 too (SYNTHIA's raw labels: 16).
        img_suffix (str): Image suffix. Defaults to '.png'.
        seg_map_suffix (str): Suffix of converted trainId labels.
        label_ids_suffix (str): Suffix of raw label-id labels.
        data_prefix (dict): Folders of images and labels under ``data_root``.
        **kwargs: Other ``BaseSegDataset`` arguments (``data_root``,
            ``pipeline``, ``test_mode``, ...).
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)
    LAYOUT = 'GTA5'
    SKIP_REPORT_TOOL = 'tools/convert_gta5_labels.py'
    LABEL_ID_TABLE = GTA5_LABEL_ID_TABLE
    #: How to make a missing split file.
    SPLIT_HINT = ("make it from the dataset's split.mat with "
                  'tools/gta5_split_from_mat.py')

    def __init__(self,
                 split: Optional[str] = None,
                 label_format: str = 'auto',
                 subset: Optional[dict] = None,
                 skip_report: Optional[str] = SKIP_REPORT_NAME,
                 first_pass: bool = True,
                 first_pass_cache: Optional[str] = None,
                 first_pass_max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 img_suffix: str = GTA5_IMG_SUFFIX,
                 seg_map_suffix: str = GTA5_TRAIN_IDS_SUFFIX,
                 label_ids_suffix: str = GTA5_LABEL_IDS_SUFFIX,
                 data_prefix: dict = dict(
                     img_path=GTA5_IMG_DIR, seg_map_path=GTA5_LABEL_DIR),
                 **kwargs) -> None:
        if kwargs.get('ann_file'):
            raise ValueError(f'{type(self).__name__}: use split=<file of '
                             'frame ids> instead of ann_file')
        self.split = split
        self._init_label_source(label_format, label_ids_suffix, subset,
                                skip_report, first_pass, first_pass_cache,
                                first_pass_max_pixels)
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)

    def _split_path(self) -> str:
        if osp.isabs(self.split) or not self.data_root:
            return self.split
        return osp.join(self.data_root, self.split)

    @staticmethod
    def frame_id(index) -> str:
        """The file stem of frame ``index`` as a split file lists it."""
        return gta5_id(index)

    def _frame_ids(self, img_dir: str) -> List[str]:
        if self.split is not None:
            split = self._split_path()
            if not osp.isfile(split):
                relative = '' if split == self.split else (
                    f' (split={self.split!r} is taken from data_root)')
                raise FileNotFoundError(
                    f'{type(self).__name__}: split file {split} not found'
                    f'{relative}; {self.SPLIT_HINT} (see {DATA_README})')
            return [
                self.frame_id(i) for i in read_id_list(
                    split, what=f'{type(self).__name__} split file')
            ]
        return sorted(name[:-len(self.img_suffix)]
                      for name in os.listdir(img_dir)
                      if name.endswith(self.img_suffix)
                      and not name.startswith('.'))

    def _list_samples(self) -> List[dict]:
        img_dir = self.data_prefix['img_path']
        label_dir = self.data_prefix.get('seg_map_path') or img_dir
        ids = self._frame_ids(img_dir)
        if len(set(ids)) != len(ids):
            raise ValueError(
                f'{type(self).__name__}: split file {self._split_path()} '
                'names a frame twice (ids are compared as numbers); '
                'expected unique ids')
        return [
            dict(
                sample_name=frame,
                img_path=osp.join(img_dir, frame + self.img_suffix),
                seg_map_path=osp.join(label_dir, frame + self.seg_map_suffix),
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[]) for frame in ids
        ]
