"""Loading labels for every dataset in one step: reading the label file,
turning label ids into trainIds when the sample says its file holds label
ids, and checking that a label file holds what its name says."""
import warnings
from typing import Dict, Optional

import mmcv
import numpy as np
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..labels import (CITYSCAPES_LABEL_ID_TABLE, CLASSES, IGNORE_INDEX,
                      LabelIdTable)

#: ``results`` key naming what the loaded ``gt_seg_map`` holds; datasets set
#: it per sample to one of ``SEG_MAP_FORMATS`` (what the label file holds),
#: and the loader sets it to ``'train_ids'`` once it has mapped the ids.
SEG_MAP_FORMAT_KEY = 'seg_map_format'
SEG_MAP_FORMATS = ('label_ids', 'train_ids')
#: ``results`` key of the class-subset map (mmseg's ``label_map``, old ->
#: new trainId) that datasets declare for label-id samples in place of
#: ``label_map``, which would otherwise be applied to the raw ids.
TRAIN_ID_LABEL_MAP_KEY = 'train_id_label_map'
#: ``results`` key of the values a label-id file of this sample's dataset
#: can never hold (Cityscapes: 255, the trainId ignore value).
REJECT_LABEL_IDS_KEY = 'reject_label_ids'
#: ``results`` key of the ``ibnseg.datasets.labels.LabelIdTable`` that maps
#: a label-id sample's ids (SYNTHIA, Mapillary); absent: the Cityscapes
#: table.
LABEL_ID_TABLE_KEY = 'label_id_table'
#: ``results`` key the loader sets for every sample whose label it handled:
#: the label ids outside the table found in it, with their pixel counts
#: (``{}`` when none, and for trainId files). Datasets read it after their
#: pipeline ran (``LabelSourceMixin.prepare_data``).
UNKNOWN_LABEL_IDS_KEY = 'unknown_label_ids'
#: How many values and file names a message lists at most.
_MAX_LISTED = 10


def reads_id_channel(results: dict) -> bool:
    """Whether the sample's label is a multi-channel label-id file that
    ``LoadLabelIdAnnotations`` decodes with cv2, keeping 16 bits, to take
    its table's ``channel`` (SYNTHIA's raw labels); every other label is
    read by mmseg's ``LoadAnnotations`` as an 8-bit map. The datasets' first
    pass allows 16-bit files for these samples only."""
    table = results.get(LABEL_ID_TABLE_KEY)
    return table is not None and table.channel is not None and \
        results.get(SEG_MAP_FORMAT_KEY) == 'label_ids'


class LabelValueError(ValueError):
    """A label file holds values that cannot be right for its format."""


def _describe(values: np.ndarray, counts: np.ndarray) -> str:
    """'30 (12 px), 40 (3 px)' for the first ``_MAX_LISTED`` values."""
    parts = [f'{v} ({counts[v]} px)' for v in values[:_MAX_LISTED]]
    if len(values) > _MAX_LISTED:
        parts.append(f'and {len(values) - _MAX_LISTED} more')
    return ', '.join(parts)


class UnknownLabelIds(dict):
    """Tally of the label files that held label ids outside the table:
    ``files`` (their number), ``pixels`` (pixels per unknown id) and
    ``examples`` (the first few file names).

    The loader keeps one per transform (for its one warning), a dataset one
    of its own (``unknown_label_ids_summary()``).
    """

    def __init__(self) -> None:
        super().__init__(files=0, pixels={}, examples=[])

    def record(self, path: str, pixels: Dict[int, int]) -> bool:
        """Count one file's unknown ids; True for the first such file."""
        if not pixels:
            return False
        self['files'] += 1
        for value, count in pixels.items():
            self['pixels'][value] = self['pixels'].get(value, 0) + count
        if len(self['examples']) < _MAX_LISTED:
            self['examples'].append(path)
        return self['files'] == 1

    def summary(self) -> str:
        """One line: how many files held unknown label ids, which ids (with
        their pixel counts) and the first files."""
        if not self['files']:
            return 'no label file held label ids outside the table'
        pixels = self['pixels']
        values = np.array(sorted(pixels), int)
        counts = np.zeros(256, np.int64)
        counts[values] = [pixels[v] for v in values]
        return (f'{self["files"]} label file(s) held label ids outside their '
                "dataset's label table (mapped to 255): "
                f'{_describe(values, counts)}; e.g. '
                f'{", ".join(self["examples"])}')


@TRANSFORMS.register_module()
class LoadLabelIdAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that also reads label-id files: it loads
    ``gt_seg_map``, maps it from Cityscapes label ids to trainIds when the
    sample's file holds label ids, and checks that the label holds values
    its format allows.

    Use it in place of ``LoadAnnotations``. The dataset says per sample what
    its label file holds (``results['seg_map_format']``, set when it lists
    the files): ``'label_ids'`` (raw GTA5 labels, ``_gtFine_labelIds.png``)
    is mapped with the official table, every id outside it becoming 255;
    ``'train_ids'`` (converted files) is only checked. A dataset whose
    files hold ids of another table (SYNTHIA, Mapillary Vistas) declares it
    per sample (``results['label_id_table']``, a ``LabelIdTable``); a table
    with a ``channel`` is for label files of several 16-bit channels
    (SYNTHIA): the file is decoded with cv2 keeping 16 bits and that channel
    is the id. Samples without ``seg_map_format`` (datasets that only know
    trainIds, such as mmseg's ``CityscapesDataset``) are trainIds too, so
    one pipeline serves both layouts. For label-id samples the dataset
    declares mmseg's class-subset ``label_map`` (set when a config chooses
    fewer classes) as ``results['train_id_label_map']``; it is applied to
    the trainIds after mapping, since it means nothing for label ids.

    After mapping ``results['seg_map_format']`` is ``'train_ids'`` (what
    ``gt_seg_map`` now holds), and ``results['unknown_label_ids']`` holds
    this sample's label ids outside the table; ``LabelSourceMixin`` reads
    both from the sample after its pipeline ran, so a label-id dataset
    loaded with plain ``LoadAnnotations`` fails instead of scoring silently
    wrong.

    Checks, each naming the label file (a ``np.bincount`` of the uint8 map,
    a few milliseconds for a 2048x1024 label):

    - the label has the size of the image it belongs to
      (``results['ori_shape']``, the size before any resize), because a
      mismatched pair would otherwise be cropped and flipped out of register
      without any error;
    - a trainId label holds only 0..18 and 255 (or, after a class-subset
      ``label_map``, the subset's ids and 255): any other value raises
      ``LabelValueError`` listing the values found, instead of an
      ``IndexError`` (a device-side assert on a GPU) in the loss;
    - a label-id label holds none of ``results['reject_label_ids']``
      (``CityscapesLabelIdsDataset`` sets 255: no Cityscapes label id is 255,
      so such a file is a trainId map under the label-id name, which would
      otherwise be mapped a second time and score silently wrong);
    - label ids above 33 (outside the official table) are mapped to 255 as
      before, and counted: the first file holding any raises one
      ``UserWarning`` naming it and its values; later files are only counted
      (``unknown_label_ids``, ``unknown_label_ids_summary()``). Each dataset
      builds its own pipeline, so this is once per dataset instance (and
      once per DataLoader worker process, which holds a copy).

    A sample without a label file (no ``seg_map_path``: an image given to
    mmseg's inference APIs, which drop only a step named exactly
    ``LoadAnnotations``) passes through unchanged, so the test pipelines
    double as inference pipelines.

    Required keys: ``seg_map_path``, ``reduce_zero_label``; optional:
    ``seg_map_format``, ``train_id_label_map``, ``label_map``,
    ``reject_label_ids``, ``ori_shape``. Added keys: ``gt_seg_map``,
    ``seg_fields``, ``unknown_label_ids``; modified: ``seg_map_format``.

    Args:
        check_size (bool): Raise when label and image sizes differ.
            Defaults to True.
        check_values (bool): Check the values as above (and count unknown
            label ids). Defaults to True.
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
        #: Files with label ids outside the table: their number, the pixels
        #: per unknown id and the first few file names.
        self.unknown_label_ids = UnknownLabelIds()

    def transform(self, results: dict) -> dict:
        if 'seg_map_path' not in results:
            # inference on an image alone (mmseg's inference_model and
            # MMSegInferencer keep this step: they drop only LoadAnnotations)
            return results
        if reads_id_channel(results):
            self._load_id_channel(results, results[LABEL_ID_TABLE_KEY])
            return self._map_and_check(results)
        return self._map_and_check(super().transform(results))

    def _load_id_channel(self, results: dict, table: LabelIdTable) -> None:
        """Load the id channel of a multi-channel label file as
        ``gt_seg_map`` (uint8; ids beyond 8 bits, which no table defines,
        become 255 and are counted as unknown)."""
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

    def _map_and_check(self, results: dict) -> dict:
        """Map the loaded ``gt_seg_map`` to trainIds if it holds label ids,
        and check it (see the class docstring)."""
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
        unknown = {}
        if seg_map_format == 'label_ids':
            label_ids = seg_map.astype(np.uint8, copy=False)
            table = results.get(LABEL_ID_TABLE_KEY) or \
                CITYSCAPES_LABEL_ID_TABLE
            if self.check_values:
                unknown = self._check_label_ids(
                    label_ids, path, results.get(REJECT_LABEL_IDS_KEY) or (),
                    table)
            train_ids = table.lut[label_ids]
            label_map = results.get(TRAIN_ID_LABEL_MAP_KEY)
            if label_map:
                lut = np.arange(256, dtype=np.uint8)
                for old_id, new_id in label_map.items():
                    lut[old_id] = new_id
                train_ids = lut[train_ids]
            results['gt_seg_map'] = train_ids
            results[SEG_MAP_FORMAT_KEY] = 'train_ids'
        elif seg_map_format == 'train_ids':
            if self.check_values:
                self._check_train_ids(seg_map, path, results.get('label_map'))
        else:
            raise ValueError(
                f'{path}: {SEG_MAP_FORMAT_KEY}={seg_map_format!r}; expected '
                f'one of {SEG_MAP_FORMATS}')
        results[UNKNOWN_LABEL_IDS_KEY] = unknown
        return results

    # -- value checks ---------------------------------------------------------
    @staticmethod
    def _counts(seg_map: np.ndarray) -> np.ndarray:
        if seg_map.dtype != np.uint8:
            if seg_map.size and (seg_map.min() < 0 or seg_map.max() > 255):
                return None  # cannot come from an 8-bit file: caller says so
            seg_map = seg_map.astype(np.uint8)
        return np.bincount(seg_map.reshape(-1), minlength=256)

    def _check_train_ids(self, seg_map: np.ndarray, path: str,
                         label_map: Optional[dict]) -> None:
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
        counts = self._counts(seg_map)
        if counts is None:
            raise LabelValueError(
                f'{path}: trainId label holds values '
                f'{seg_map.min()}..{seg_map.max()}; expected {expected}')
        bad = np.flatnonzero(counts * ~allowed)
        if bad.size:
            raise LabelValueError(
                f'{path}: trainId label holds value(s) '
                f'{_describe(bad, counts)} outside {expected} (ignore); '
                'they would fail in the loss. Is it a label-id file under '
                'the trainId name? Make trainId files with '
                'tools/convert_gta5_labels.py or '
                'tools/convert_cityscapes_labels.py (see data/README.md).')

    def _check_label_ids(
            self,
            label_ids: np.ndarray,
            path: str,
            reject,
            table: LabelIdTable = CITYSCAPES_LABEL_ID_TABLE
    ) -> Dict[int, int]:
        """Raise on rejected ids; return the unknown ids' pixel counts."""
        counts = self._counts(label_ids)
        rejected = np.array(sorted(v for v in set(reject) if counts[v]), int)
        if rejected.size:
            raise LabelValueError(
                f'{path}: label-id file holds value(s) '
                f'{_describe(rejected, counts)}, which no label id of '
                f'{table.name} has (stored ids are 0..{table.max_label_id})'
                + (f': {table.rejected_hint}' if table.rejected_hint
                   else '.'))
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
        return pixels

    def unknown_label_ids_summary(self) -> str:
        """One line: how many files held unknown label ids, which ids (with
        their pixel counts) and the first files."""
        return self.unknown_label_ids.summary()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(check_size={self.check_size}, '
                f'check_values={self.check_values}, '
                f'reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class MapLabelIds(LoadLabelIdAnnotations):
    """Deprecated: the mapping step of ``LoadLabelIdAnnotations`` alone, for
    configs written as ``dict(type='LoadAnnotations'),
    dict(type='MapLabelIds')``; replace the pair by
    ``dict(type='LoadLabelIdAnnotations')``, which does the same.

    It maps and checks a ``gt_seg_map`` that mmseg's ``LoadAnnotations``
    loaded (the same code and options as ``LoadLabelIdAnnotations``; the
    loading options are unused). A sample without a label file passes
    through unchanged; one whose label was not loaded is an error.

    Args:
        check_size (bool), check_values (bool): As in
            ``LoadLabelIdAnnotations``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        warnings.warn(
            "MapLabelIds is deprecated: replace dict(type='LoadAnnotations'),"
            " dict(type='MapLabelIds') by dict(type='LoadLabelIdAnnotations')"
            ', which loads and maps in one step', DeprecationWarning)

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' not in results:
            if 'seg_map_path' not in results:
                # inference on an image alone: mmseg's inference_model and
                # MMSegInferencer drop LoadAnnotations from the pipeline
                return results
            raise KeyError('MapLabelIds: no gt_seg_map in the results; put '
                           'MapLabelIds right after LoadAnnotations, or use '
                           'LoadLabelIdAnnotations in place of both')
        return self._map_and_check(results)
