"""Turning loaded label ids into trainIds, once, for every dataset."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ..labels import LABEL_ID_TO_TRAIN_ID

#: ``results`` key naming what the loaded ``gt_seg_map`` holds; datasets set
#: it per sample to one of ``SEG_MAP_FORMATS``.
SEG_MAP_FORMAT_KEY = 'seg_map_format'
SEG_MAP_FORMATS = ('label_ids', 'train_ids')
#: ``results`` key of the class-subset map (mmseg's ``label_map``, old ->
#: new trainId) that datasets hand to MapLabelIds for label-id samples.
TRAIN_ID_LABEL_MAP_KEY = 'train_id_label_map'


@TRANSFORMS.register_module()
class MapLabelIds(BaseTransform):
    """Map ``gt_seg_map`` from Cityscapes label ids to trainIds when needed.

    Place it right after mmseg's ``LoadAnnotations``. The dataset says per
    sample what its label file holds (``results['seg_map_format']``):
    ``'label_ids'`` (raw GTA5 labels, ``_gtFine_labelIds.png``) is mapped with
    the official table, every id outside it becoming 255; ``'train_ids'``
    (converted files) passes through. Samples without the key (datasets
    that only know trainIds, such as mmseg's ``CityscapesDataset``) pass
    through too, so one pipeline serves both layouts. For label-id samples
    the dataset passes mmseg's class-subset ``label_map`` (set when a config
    chooses fewer classes) as ``results['train_id_label_map']``; it is
    applied to the trainIds here, since it means nothing for label ids.

    It also checks that the label has the size of the image it belongs to
    (``results['ori_shape']``, the size before any resize), because a
    mismatched pair would otherwise be cropped and flipped out of register
    without any error.

    Required keys: ``gt_seg_map``, ``seg_map_path``; optional:
    ``seg_map_format``, ``train_id_label_map``, ``ori_shape``. Modified key: ``gt_seg_map``.

    Args:
        check_size (bool): Raise when label and image sizes differ.
            Defaults to True.
    """

    def __init__(self, check_size: bool = True):
        self.check_size = check_size

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' not in results:
            raise KeyError('MapLabelIds: no gt_seg_map in the results; put '
                           'MapLabelIds right after LoadAnnotations')
        seg_map = results['gt_seg_map']
        path = results.get('seg_map_path', '<unknown label file>')
        if seg_map.ndim != 2:
            raise ValueError(
                f'{path}: label has shape {seg_map.shape}; expected a '
                'single-channel (palette or grayscale) label image')
        image_shape = results.get('ori_shape')
        if self.check_size and image_shape is not None and \
                tuple(seg_map.shape) != tuple(image_shape[:2]):
            raise ValueError(
                f'{path}: label is {seg_map.shape[1]}x{seg_map.shape[0]} '
                f'(WxH) but its image {results.get("img_path", "")} is '
                f'{image_shape[1]}x{image_shape[0]}; expected the same size. '
                'For GTA5 run tools/convert_gta5_labels.py, which lists such '
                'pairs in the skip report that GTA5Dataset honours.')
        seg_map_format = results.get(SEG_MAP_FORMAT_KEY, 'train_ids')
        if seg_map_format == 'label_ids':
            train_ids = LABEL_ID_TO_TRAIN_ID[seg_map.astype(np.uint8,
                                                            copy=False)]
            label_map = results.get(TRAIN_ID_LABEL_MAP_KEY)
            if label_map:
                lut = np.arange(256, dtype=np.uint8)
                for old_id, new_id in label_map.items():
                    lut[old_id] = new_id
                train_ids = lut[train_ids]
            results['gt_seg_map'] = train_ids
        elif seg_map_format != 'train_ids':
            raise ValueError(
                f'{path}: {SEG_MAP_FORMAT_KEY}={seg_map_format!r}; expected '
                f'one of {SEG_MAP_FORMATS}')
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(check_size={self.check_size})'
