"""Mapillary Vistas v1.2 (Neuhold et al., ICCV 2017) mapped to the 19
Cityscapes classes, as the domain-generalisation literature evaluates it."""
import json
import os.path as osp
from typing import Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .label_source import DATA_README, LabelSourceMixin
from .labels import CLASSES, PALETTE, LabelIdTable, mapillary_label_id_table
from .layouts import (MAPILLARY_CONFIGS, MAPILLARY_IMG_DIR,
                      MAPILLARY_IMG_SUFFIX, MAPILLARY_LABEL_DIRS,
                      MAPILLARY_LABEL_IDS_SUFFIX, MAPILLARY_TRAIN_IDS_SUFFIX)

SPLITS = ('training', 'validation')


def find_label_dir(root: str, split: str) -> str:
    """The first of ``MAPILLARY_LABEL_DIRS`` under ``root`` that exists (else
    the first), relative to it."""
    candidates = [d.format(split=split) for d in MAPILLARY_LABEL_DIRS]
    for candidate in candidates:
        if osp.isdir(osp.join(root, candidate)):
            return candidate
    return candidates[0]


def find_config(root: str, config: Optional[str] = None) -> Optional[str]:
    """``config`` (relative to ``root`` unless absolute) if given, else the
    first of ``MAPILLARY_CONFIGS`` under ``root``, else None."""
    if config:
        return config if osp.isabs(config) else osp.join(root, config)
    for name in MAPILLARY_CONFIGS:
        if osp.isfile(osp.join(root, name)):
            return osp.join(root, name)
    return None


def load_mapillary_table(path: Optional[str], root: str) -> LabelIdTable:
    """The id -> trainId table of the config file at ``path``
    (``mapillary_label_id_table``); errors name the file."""
    if path is None or not osp.isfile(path):
        where = path or ' or '.join(
            osp.join(root, n) for n in MAPILLARY_CONFIGS)
        raise FileNotFoundError(
            f'Mapillary config file {where} not found; the raw labels hold '
            'class ids that are mapped to Cityscapes by the class names of '
            "the dataset's own config.json (it comes with the download), or "
            'convert the labels first with tools/convert_mapillary_labels.py'
            f' (see {DATA_README})')
    try:
        with open(path, encoding='utf-8') as f:
            config = json.load(f)
    except ValueError as err:
        raise ValueError(f'{path}: not a JSON file ({err}); expected '
                         "Mapillary Vistas' config.json") from err
    if not isinstance(config, dict) or 'labels' not in config:
        raise ValueError(f'{path}: no "labels" list; expected Mapillary '
                         "Vistas' config.json")
    return mapillary_label_id_table(config['labels'], source=path)


@DATASETS.register_module()
class MapillaryToCityscapesDataset(LabelSourceMixin, BaseSegDataset):
    """Mapillary Vistas v1.2 with its 66 classes mapped to the 19 of
    Cityscapes (mmseg's ``MapillaryDataset_v1`` keeps 66), so a
    Cityscapes-trained model is scored on it directly. Layout
    (data/README.md): ``{split}/images/<key>.jpg`` and the palette PNG
    ``{split}/labels/<key>.png`` (or the v2.0 download's
    ``{split}/v1.2/labels``), mapped by class name through config.json
    (read only then), or the converted ``<key>_trainIds.png``.

    Args:
        split (str): 'training' or 'validation'.
        config (str, optional): The v1.2 config file, relative to
            ``data_root`` unless absolute; None: config.json or
            config_v1.2.json in ``data_root``.
        **kwargs: ``LabelSourceMixin`` and ``BaseSegDataset`` options but
            ``data_prefix`` and the suffixes.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)
    SKIP_REPORT_TOOL = 'tools/convert_mapillary_labels.py'

    def __init__(self,
                 split: str = 'validation',
                 config: Optional[str] = None,
                 **kwargs) -> None:
        self._check_choice('split', split, SPLITS)
        self._refuse_derived_layout(kwargs, 'split')
        self.split = split
        self.config = config
        root = kwargs.get('data_root') or ''
        img_dir = MAPILLARY_IMG_DIR.format(split=split)
        label_dir = find_label_dir(root, split)
        self.LAYOUT = (f'Mapillary Vistas v1.2 ({img_dir}/*.jpg + '
                       f'{label_dir}/*.png and config.json)')
        #: The id -> trainId table, set when a raw label is used.
        self.label_id_table: Optional[LabelIdTable] = None
        super().__init__(
            label_ids_suffix=MAPILLARY_LABEL_IDS_SUFFIX,
            img_suffix=MAPILLARY_IMG_SUFFIX,
            seg_map_suffix=MAPILLARY_TRAIN_IDS_SUFFIX,
            data_prefix=dict(img_path=img_dir, seg_map_path=label_dir),
            **kwargs)

    def _label_id_table(self) -> LabelIdTable:
        self.label_id_table = load_mapillary_table(
            find_config(self.data_root or '', self.config),
            self.data_root or '')
        return self.label_id_table
