"""GTA5 (Richter et al., "Playing for Data", ECCV 2016) as an mmseg dataset."""
import os
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .label_source import DATA_README, LabelSourceMixin
from .labels import CLASSES, GTA5_LABEL_ID_TABLE, PALETTE
from .layouts import (GTA5_IMG_DIR, GTA5_IMG_SUFFIX, GTA5_LABEL_DIR,
                      GTA5_LABEL_IDS_SUFFIX, GTA5_TRAIN_IDS_SUFFIX, gta5_id)
from .subsets import read_id_list


@DATASETS.register_module()
class GTA5Dataset(LabelSourceMixin, BaseSegDataset):
    """GTA5 with the 19 Cityscapes classes: ``images/00001.png``, its
    label-id palette PNG ``labels/00001.png``, mapped at load time, or the
    converted ``labels/00001_labelTrainIds.png`` (data/README.md).

    Args:
        split (str, optional): File of frame ids, one per line ('1' or
            '00001'; tools/gta5_split_from_mat.py), relative to
            ``data_root`` unless absolute. None: every image.
        img_suffix (str), seg_map_suffix (str), data_prefix (dict): mmseg's
            options, GTA5's layout by default.
        **kwargs: ``LabelSourceMixin`` and ``BaseSegDataset`` options.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)
    LAYOUT = 'GTA5'
    SKIP_REPORT_TOOL = 'tools/convert_gta5_labels.py'
    LABEL_ID_TABLE = GTA5_LABEL_ID_TABLE
    SPLIT_HINT = ("make it from the dataset's split.mat with "
                  'tools/gta5_split_from_mat.py')

    def __init__(self,
                 split: Optional[str] = None,
                 img_suffix: str = GTA5_IMG_SUFFIX,
                 seg_map_suffix: str = GTA5_TRAIN_IDS_SUFFIX,
                 data_prefix: dict = dict(
                     img_path=GTA5_IMG_DIR, seg_map_path=GTA5_LABEL_DIR),
                 **kwargs) -> None:
        if kwargs.get('ann_file'):
            raise ValueError(f'{type(self).__name__}: use split=<file of '
                             'frame ids> instead of ann_file')
        self.split = split
        kwargs.setdefault('label_ids_suffix', GTA5_LABEL_IDS_SUFFIX)
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)

    frame_id = staticmethod(gta5_id)

    def _frame_ids(self, img_dir: str) -> List[str]:
        if self.split is not None:
            split = self._under_root(self.split)
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
                f'{type(self).__name__}: split file '
                f'{self._under_root(self.split)} names a frame twice (ids '
                'are compared as numbers); expected unique ids')
        return [
            dict(
                sample_name=frame,
                img_path=osp.join(img_dir, frame + self.img_suffix),
                seg_map_path=osp.join(label_dir, frame + self.seg_map_suffix),
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[]) for frame in ids
        ]
