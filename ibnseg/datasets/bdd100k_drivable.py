"""BDD100K drivable area (Yu et al., CVPR 2020; the WAD 2018 track IBN-Net
won), in either published release, filtered by BDD's image attributes so
that each condition is a domain. Layouts and values: doc.bdd100k.com (the
current release), the ucbdrive/bdd100k README (2018) and doc/format.md."""
import functools
import json
import os
import os.path as osp
import warnings
from collections import Counter
from typing import Dict, List, Optional, Tuple

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .label_source import DATA_README, LabelSourceMixin
from .labels import LabelIdTable, build_lut
from .layouts import (DatasetError, describe_layout, layout_options,
                      read_label_ids)
from .subsets import select_subset
from .transforms.loading import check_label_ids

SPLITS = ('train', 'val')
#: The current release's classes, in its order; bdd100k/label/label.py's
#: colours.
DRIVABLE_CLASSES = ('direct', 'alternative', 'background')
DRIVABLE_PALETTE = [[219, 94, 86], [86, 211, 219], [0, 0, 0]]
BACKGROUND = 'background'
IGNORE_INDEX = 255

#: What each release's masks hold, stored value -> class name.
RELEASE_VALUES = {
    'current': {0: 'direct', 1: 'alternative', 2: 'background'},
    '2018': {0: 'background', 1: 'direct', 2: 'alternative'},
}
RELEASE_LAYOUTS = {
    'current': dict(img_dir='images/100k/{split}', img_suffix='.jpg',
                    label_dir='labels/drivable/masks/{split}',
                    seg_map_suffix='.png',
                    attributes_file='labels/det_20/det_{split}.json'),
    '2018': dict(img_dir='images/100k/{split}', img_suffix='.jpg',
                 label_dir='drivable_maps/labels/{split}',
                 seg_map_suffix='_drivable_id.png',
                 attributes_file='labels/bdd100k_labels_images_{split}.json'),
}
RELEASES = ('auto', ) + tuple(RELEASE_LAYOUTS)
ATTRIBUTE_VALUES = {
    'weather': ('rainy', 'snowy', 'clear', 'overcast', 'undefined',
                'partly cloudy', 'foggy'),
    'scene': ('tunnel', 'residential', 'parking lot', 'undefined',
              'city street', 'gas stations', 'highway'),
    'timeofday': ('daytime', 'night', 'dawn/dusk', 'undefined'),
}
#: Label files whose values are checked at construction (a seeded choice).
VALUE_CHECK_FILES = 4


def _release_table(release: str) -> LabelIdTable:
    """``release``'s table: 255 ignored (as BDD's evaluation does), other
    values outside it refused."""
    values = RELEASE_VALUES[release]
    return LabelIdTable(
        f'BDD100K drivable area ({release} release)',
        build_lut({v: DRIVABLE_CLASSES.index(c) for v, c in values.items()}),
        max(values),
        rejected_hint=f'the {release} release stores ' + ', '.join(
            f'{v} {c}' for v, c in values.items()) + f' (and {IGNORE_INDEX} '
        'ignored). Is data_root the BDD100K root, with the masks (not the '
        'colour maps)?',
        reject=tuple(range(len(DRIVABLE_CLASSES), IGNORE_INDEX)))


RELEASE_TABLES = {r: _release_table(r) for r in RELEASE_VALUES}


def check_attribute_filter(attributes, owner: str = 'BDD100KDrivableDataset'
                           ) -> Dict[str, Tuple[str, ...]]:
    """``attributes`` (e.g. ``dict(timeofday=['night'])``) checked against
    BDD's attribute names and values: ``{name: allowed values}``."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict) or not attributes:
        raise DatasetError(
            f'{owner}: attributes must be a non-empty dict of attribute -> '
            f"list of values, e.g. dict(timeofday=['night']), got "
            f'{attributes!r}')
    checked = {}
    for name, values in attributes.items():
        if name not in ATTRIBUTE_VALUES:
            raise DatasetError(
                f'{owner}: unknown attribute {name!r}; BDD100K frames have '
                f'{", ".join(ATTRIBUTE_VALUES)}')
        if isinstance(values, str):
            values = [values]
        unknown = [v for v in values if v not in ATTRIBUTE_VALUES[name]]
        if unknown or not values:
            raise DatasetError(
                f'{owner}: attributes[{name!r}] has unknown value(s) '
                f'{unknown or values!r}; BDD100K\'s {name} values are '
                + ', '.join(repr(v) for v in ATTRIBUTE_VALUES[name]))
        checked[name] = tuple(values)
    return checked


def read_frame_attributes(path: str) -> Dict[str, dict]:
    """Image stem -> its ``attributes`` dict, from a BDD100K image-level
    label JSON (a list of frames with ``name`` and ``attributes``)."""
    stat = os.stat(path)
    return _parse_frames(osp.abspath(path), stat.st_mtime_ns, stat.st_size)


# once per file version: every domain of an evaluation reads the same large
# file (the 2018 train file holds every box and polygon)
@functools.lru_cache(maxsize=1)
def _parse_frames(path: str, mtime_ns: int, size: int) -> Dict[str, dict]:
    try:
        with open(path, encoding='utf-8') as f:
            frames = json.load(f)
    except (OSError, ValueError) as error:
        raise DatasetError(f'{path}: cannot read the label JSON '
                           f'({error})') from error
    if not isinstance(frames, list) or not all(
            isinstance(f, dict) and isinstance(f.get('name'), str)
            for f in frames):
        raise DatasetError(
            f'{path}: expected a BDD100K image-level label JSON, a list '
            'of frames {"name": "<stem>.jpg", "attributes": {"weather": '
            '..., "scene": ..., "timeofday": ...}, ...}')
    return {
        osp.splitext(osp.basename(f['name']))[0]: f.get('attributes') or {}
        for f in frames
    }


@DATASETS.register_module()
class BDD100KDrivableDataset(LabelSourceMixin, BaseSegDataset):
    """BDD100K's drivable-area task under the BDD100K root, in either
    release (``RELEASE_LAYOUTS``, data/README.md). Both map their stored
    values (``RELEASE_VALUES``) to the classes ('direct', 'alternative',
    'background'), so a model is scored the same on either; 255 is ignored
    and any other value refused (at construction in ``VALUE_CHECK_FILES``
    seeded files, and in every file when loaded).

    Args:
        split (str): 'train' or 'val' (the test labels are not published).
        release (str): 'auto' (the release whose label folder ``data_root``
            holds; both or neither is an error), 'current' or '2018'.
        attributes (dict, optional): Keep the images whose frame attributes
            take one of the listed values, for every attribute named, e.g.
            ``dict(timeofday=['daytime'], weather=['clear'])``
            (``ATTRIBUTE_VALUES``). None: every image.
        attributes_file (str, optional): The label JSON with the attributes,
            relative to ``data_root`` unless absolute; default: the
            release's. Read only when filtering.
        **kwargs: ``LabelSourceMixin`` options (``subset`` is drawn after
            the filter) and ``BaseSegDataset`` ones but ``data_prefix`` and
            the suffixes.
    """
    METAINFO = dict(classes=DRIVABLE_CLASSES, palette=DRIVABLE_PALETTE)

    def __init__(self,
                 split: str = 'train',
                 release: str = 'auto',
                 attributes: Optional[dict] = None,
                 attributes_file: Optional[str] = None,
                 **kwargs) -> None:
        self._check_choice('split', split, SPLITS,
                           ' (the test labels are not published)')
        self._check_choice('release', release, RELEASES)
        self._refuse_derived_layout(kwargs, 'release and split',
                                    f'; give release= ({", ".join(RELEASES)})'
                                    ' instead')
        self.split = split
        self.attributes = check_attribute_filter(attributes,
                                                 type(self).__name__)
        self.release = self._resolve_release(release,
                                             kwargs.get('data_root'))
        spec = RELEASE_LAYOUTS[self.release]
        self.attributes_file = attributes_file or \
            spec['attributes_file'].format(split=split)
        self.LAYOUT = (f'BDD100K drivable area (release '
                       f'{describe_layout(self.release, spec, split)})')
        super().__init__(
            label_format='label_ids',
            label_ids_suffix=spec['seg_map_suffix'],
            **layout_options(spec, split),
            **kwargs)

    def _resolve_release(self, release: str, data_root: Optional[str]) -> str:
        if release != 'auto':
            return release
        folders = {n: spec['label_dir'].format(split=self.split)
                   for n, spec in RELEASE_LAYOUTS.items()}
        looked_for = [describe_layout(n, s, self.split)
                      for n, s in RELEASE_LAYOUTS.items()]
        # the releases store the classes in reverse order: never guess
        return self._detect_layout(
            data_root, folders, looked_for, 'BDD100K drivable-area release',
            both_hint="set release='current' or release='2018'")

    def load_data_list(self) -> List[dict]:
        """Also check a seeded few label files: labels of the wrong task or
        release fail here, not mid-run."""
        infos = super().load_data_list()
        chosen = set(select_subset([i['sample_name'] for i in infos],
                                   count=min(VALUE_CHECK_FILES, len(infos)),
                                   log=False))
        for info in infos:
            if info['sample_name'] in chosen:
                path = info['seg_map_path']
                try:
                    check_label_ids(read_label_ids(path), path,
                                    self._label_id_table())
                except ValueError as error:
                    raise DatasetError(
                        f'{type(self).__name__}: {error}') from error
        return infos

    def _list_samples(self) -> List[dict]:
        infos = super()._list_samples()
        if self.attributes:
            infos = self._filter_by_attributes(infos)
        return infos

    def _filter_by_attributes(self, infos: List[dict]) -> List[dict]:
        path = self._under_root(self.attributes_file)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: attributes={self.attributes} need '
                f'the image-level label JSON {path!r}, which does not exist; '
                'set attributes_file= to a BDD100K label JSON that lists '
                'these images with their attributes (see '
                f'{DATA_README})')
        frames = read_frame_attributes(path)
        # sample names are paths below the image folder: match the stem
        names = [osp.basename(i['sample_name']) for i in infos]
        unlisted = [n for n in names if n not in frames]
        if unlisted:
            warnings.warn(
                f'{type(self).__name__}: {len(unlisted)} of {len(infos)} '
                f'images have no entry in {path} (e.g. {unlisted[0]}); '
                'the attribute filter leaves them out')
        kept = [
            info for info, name in zip(infos, names)
            if name in frames and all(
                frames[name].get(a) in values
                for a, values in self.attributes.items())
        ]
        if not kept:
            seen = {a: Counter(frames[n].get(a) for n in names
                               if n in frames) for a in self.attributes}
            raise DatasetError(
                f'{type(self).__name__}: no image of split {self.split!r} '
                f'has attributes {self.attributes} in {path}; the images '
                'have ' + '; '.join(
                    f'{a}: ' + ', '.join(f'{v!r} {c}'
                                         for v, c in seen[a].most_common())
                    for a in self.attributes))
        return kept

    def _label_id_table(self) -> LabelIdTable:
        return RELEASE_TABLES[self.release]
