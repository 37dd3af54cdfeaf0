"""Loading every dataset's labels: label ids mapped to trainIds where the
dataset names a table, values checked against the label's format."""
import warnings
from collections import Counter
from typing import Dict, Optional

import mmcv
import numpy as np
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..labels import CLASSES, IGNORE_INDEX, LabelIdTable

#: The key of a label-id sample's ``LabelIdTable``.
LABEL_ID_TABLE_KEY = 'label_id_table'
_MAX_LISTED = 10  # values and file names a message lists


class LabelValueError(ValueError):
    """A label file holds values that cannot be right for its format."""


def _describe(values: np.ndarray, counts: np.ndarray) -> str:
    """'30 (12 px), 40 (3 px)' for the first ``_MAX_LISTED`` values."""
    parts = [f'{v} ({counts[v]} px)' for v in values[:_MAX_LISTED]]
    if len(values) > _MAX_LISTED:
        parts.append(f'and {len(values) - _MAX_LISTED} more')
    return ', '.join(parts)


class UnknownLabelIds(dict):
    """Tally of the label files holding ids outside their table: ``files``,
    ``pixels`` (per unknown id) and ``examples`` (the first names)."""

    def __init__(self) -> None:
        super().__init__(files=0, pixels=Counter(), examples=[])

    def record(self, path: str, pixels: Dict[int, int]) -> bool:
        """Count one file's unknown ids; True for the first such file."""
        if not pixels:
            return False
        self['files'] += 1
        self['pixels'].update(pixels)
        if len(self['examples']) < _MAX_LISTED:
            self['examples'].append(path)
        return self['files'] == 1

    def summary(self) -> str:
        if not self['files']:
            return 'no label file held label ids outside the table'
        counts = np.zeros(256, np.int64)
        counts[list(self['pixels'])] = list(self['pixels'].values())
        return (f'{self["files"]} label file(s) held label ids outside their '
                "dataset's label table (mapped to 255): "
                f'{_describe(np.flatnonzero(counts), counts)}; e.g. '
                f'{", ".join(self["examples"])}')


def check_label_ids(label_ids: np.ndarray, path: str,
                    table: LabelIdTable) -> np.ndarray:
    """The pixel count of each value; one of the table's ``reject`` ids
    raises ``LabelValueError`` naming ``path``."""
    counts = np.bincount(label_ids.reshape(-1), minlength=256)
    rejected = np.array(sorted(v for v in set(table.reject) if counts[v]),
                        int)
    if rejected.size:
        raise LabelValueError(
            f'{path}: label-id file holds value(s) '
            f'{_describe(rejected, counts)}, which no label id of '
            f'{table.name} has (stored ids are 0..{table.max_label_id})'
            + (f': {table.rejected_hint}' if table.rejected_hint else '.'))
    return counts


@TRANSFORMS.register_module()
class LoadLabelIdAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that maps label-id files to trainIds and
    checks every label, naming the file.

    A sample with ``results['label_id_table']`` (a ``LabelIdTable``) holds
    label ids: one of the table's ``reject`` ids raises ``LabelValueError``;
    ids above ``max_label_id`` become 255, the first file holding any warns
    and later ones are counted (``unknown_label_ids_summary()``). A table
    ``channel`` is read from a multi-channel PNG keeping 16 bits. A
    class-subset ``label_map`` is applied after the table. Other samples
    hold trainIds: 0..18 or 255 (or the subset's ids), else
    ``LabelValueError``. A sample without ``seg_map_path`` passes through.

    Args:
        check_size (bool): Raise when label and image sizes differ.
        check_values (bool): Check the values as above.
        reduce_zero_label (bool, optional), backend_args (dict, optional),
            imdecode_backend (str): As in mmseg's ``LoadAnnotations``.
    """

    def __init__(self,
                 check_size: bool = True,
                 check_values: bool = True,
                 reduce_zero_label: Optional[bool] = None,
                 backend_args: Optional[dict] = None,
                 imdecode_backend: str = 'pillow') -> None:
        super().__init__(
            reduce_zero_label=reduce_zero_label,
            backend_args=backend_args,
            imdecode_backend=imdecode_backend)
        self.check_size = check_size
        self.check_values = check_values
        self.unknown_label_ids = UnknownLabelIds()

    def transform(self, results: dict) -> dict:
        if 'seg_map_path' not in results:
            return results
        table = results.get(LABEL_ID_TABLE_KEY)
        if table is None:
            super().transform(results)
            self._check_shape(results)
            if self.check_values:
                self._check_train_ids(results)
            return results
        # label_map maps trainIds: LoadAnnotations must not apply it to ids
        label_map, results['label_map'] = results.get('label_map'), None
        if table.channel is None:
            super().transform(results)
        else:
            self._load_id_channel(results, table)
        results['label_map'] = label_map
        self._check_shape(results)
        if self.check_values:
            self._check_label_ids(results['gt_seg_map'],
                                  results['seg_map_path'], table)
        train_ids = table.lut[results['gt_seg_map']]
        if label_map:
            lut = np.arange(256, dtype=np.uint8)
            lut[list(label_map)] = list(label_map.values())
            train_ids = lut[train_ids]
        results['gt_seg_map'] = train_ids
        return results

    def _load_id_channel(self, results: dict, table: LabelIdTable) -> None:
        """Channel ``table.channel`` of a multi-channel label as
        ``gt_seg_map``; ids beyond 8 bits become 255 (unknown)."""
        path = results['seg_map_path']
        # cv2 keeps 16 bits per channel; PIL would keep only the high byte
        label = mmcv.imfrombytes(
            fileio.get(path, backend_args=self.backend_args),
            flag='unchanged',
            backend='cv2')
        if label is None or label.ndim != 3 or label.shape[2] < 3:
            shape = None if label is None else label.shape
            raise LabelValueError(
                f'{path}: {table.name} label decodes to shape {shape}; '
                'expected a PNG of 3 or 4 channels with the class id in '
                f'channel {table.channel} (RGB order)')
        ids = label[..., 2 - table.channel]  # cv2 decodes to BGR(A)
        results['gt_seg_map'] = np.minimum(ids, IGNORE_INDEX).astype(
            np.uint8)
        results['seg_fields'].append('gt_seg_map')

    def _check_shape(self, results: dict) -> None:
        seg_map, path = results['gt_seg_map'], results['seg_map_path']
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

    def _check_train_ids(self, results: dict) -> None:
        label_map = results.get('label_map')
        allowed = np.zeros(256, bool)
        if label_map:  # LoadAnnotations has applied a class subset
            allowed[[v for v in label_map.values() if 0 <= v < 256]] = True
            expected = ('the class subset\'s ids '
                        f'{sorted(set(label_map.values()) - {IGNORE_INDEX})}'
                        f' or {IGNORE_INDEX}')
        else:
            allowed[:len(CLASSES)] = True
            expected = f'0..{len(CLASSES) - 1} or {IGNORE_INDEX}'
        allowed[IGNORE_INDEX] = True
        counts = np.bincount(results['gt_seg_map'].reshape(-1), minlength=256)
        bad = np.flatnonzero(counts * ~allowed)
        if bad.size:
            raise LabelValueError(
                f'{results["seg_map_path"]}: trainId label holds value(s) '
                f'{_describe(bad, counts)} outside {expected} (ignore); '
                'they would fail in the loss. Is it a label-id file under '
                'the trainId name? Make trainId files with '
                'tools/convert_gta5_labels.py or '
                'tools/convert_cityscapes_labels.py (see data/README.md).')

    def _check_label_ids(self, label_ids: np.ndarray, path: str,
                         table: LabelIdTable) -> None:
        counts = check_label_ids(label_ids, path, table)
        max_id = table.max_label_id
        unknown = np.flatnonzero(counts[max_id + 1:]) + max_id + 1
        pixels = {value: int(counts[value]) for value in unknown.tolist()}
        if self.unknown_label_ids.record(path, pixels):
            warnings.warn(
                f'{path}: label id(s) {_describe(unknown, counts)} are not in '
                f'the {table.name} label table (ids 0..{max_id}); mapped '
                'to 255 (ignored). Further files with unknown ids are '
                'counted, not warned about: see the dataset\'s '
                'unknown_label_ids_summary().', UserWarning)

    def unknown_label_ids_summary(self) -> str:
        """One line: the files that held unknown ids, the ids and pixels."""
        return self.unknown_label_ids.summary()
