"""What the ibnseg datasets add to mmseg's: the label file of each sample,
seeded subsets, skip reports, the first pass and errors naming files."""
import os
import os.path as osp
import warnings
from collections import Counter
from typing import List, Optional

from mmseg.datasets.transforms import LoadAnnotations

from .first_pass import DEFAULT_MAX_PIXELS, check_pairs
from .labels import LabelIdTable
from .layouts import DatasetError
from .skip_report import SKIP_REPORT_NAME, SkippedSample, read_skip_report
from .subsets import read_id_lines, select_subset, write_id_list
from .transforms.loading import (LABEL_ID_TABLE_KEY, LabelValueError,
                                 LoadLabelIdAnnotations, UnknownLabelIds)

LABEL_FORMATS = ('auto', 'label_ids', 'train_ids')
DATA_README = 'data/README.md'


def _label_loaders(step):
    """The label-loading steps of a built pipeline ``step``, also inside
    wrappers (``Compose``, ``TestTimeAug``, ``RandomChoice``)."""
    if isinstance(step, LoadAnnotations):
        yield step
    inner = getattr(step, 'transforms', None) or getattr(
        step, 'subroutines', None)
    for child in inner if isinstance(inner, (list, tuple)) else [inner]:
        if child is not None:
            yield from _label_loaders(child)


class LabelSourceMixin:
    """What every ibnseg dataset adds to mmseg's ``BaseSegDataset``: after
    listing the samples (``_list_samples``) it keeps a seeded subset, drops
    the skip report's samples, picks each sample's label file and drops the
    pairs the first pass finds broken (one warning each). A label-id sample
    carries ``LABEL_ID_TABLE`` for ``LoadLabelIdAnnotations``; a pipeline
    that would load it with plain ``LoadAnnotations`` is refused.

    Args:
        label_format (str): Which label file each sample uses: 'auto' (the
            converted trainId file, ``seg_map_suffix``, where it exists,
            else the raw label-id file, ``label_ids_suffix``), 'train_ids'
            or 'label_ids' (only those files).
        label_ids_suffix (str): Suffix of the raw label-id files.
        subset (dict, optional): A seeded subset (``subsets.select_subset``)
            chosen before the skip report: ``dict(fraction=0.1, seed=0)`` or
            ``dict(count=500, seed=0)``, plus ``save_to='path.txt'`` to write
            the names finally used.
        skip_report (str, optional): A skip report of broken pairs, relative
            to ``data_root`` unless absolute; a missing file skips nothing;
            None ignores any.
        first_pass (bool): Run the first-pass check (``first_pass``).
        first_pass_cache (str, optional): Folder of the first-pass cache;
            None: ``data_root`` if writable, else under ``$IBNSEG_CACHE``.
        first_pass_max_pixels (int, optional): The first pass refuses,
            naming it, a file of more pixels (default about 9459x9459) or a
            label PNG of another bit depth than 8; None: any size.
        **kwargs: ``BaseSegDataset`` arguments.
    """

    LAYOUT = ''  # the expected layout, named in errors
    SKIP_REPORT_TOOL: Optional[str] = None  # the converter writing a report
    LABEL_ID_TABLE: Optional[LabelIdTable] = None

    def __init__(self,
                 label_format: str = 'auto',
                 label_ids_suffix: str = '',
                 subset: Optional[dict] = None,
                 skip_report: Optional[str] = SKIP_REPORT_NAME,
                 first_pass: bool = True,
                 first_pass_cache: Optional[str] = None,
                 first_pass_max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 **kwargs) -> None:
        self._check_choice('label_format', label_format, LABEL_FORMATS)
        if subset is not None:
            unknown = set(subset) - {'fraction', 'count', 'seed', 'save_to'}
            if unknown:
                raise ValueError(
                    f'{type(self).__name__}: unknown subset option(s) '
                    f'{sorted(unknown)}; expected dict(fraction=... or '
                    'count=..., seed=0, save_to=None)')
        self.label_format = label_format
        self.label_ids_suffix = label_ids_suffix
        self.subset = None if subset is None else dict(subset)
        self.skip_report = skip_report
        self.first_pass = first_pass
        self.first_pass_cache = first_pass_cache
        self.first_pass_max_pixels = first_pass_max_pixels
        #: Samples the first-pass check dropped (SkippedSample list).
        self.first_pass_skipped: List[SkippedSample] = []
        self.label_id_samples = 0
        super().__init__(**kwargs)

    def _check_choice(self, name: str, value, choices, note: str = ''):
        if value not in choices:
            raise ValueError(f'{type(self).__name__}: {name} must be one of '
                             f'{tuple(choices)}, got {value!r}{note}')

    def _detect_layout(self, data_root: Optional[str], folders: dict,
                       looked_for: List[str], what: str,
                       both_hint: str = '') -> str:
        """For an 'auto' option: the first layout name of ``folders`` (name
        -> folder under ``data_root``) whose folder exists; none, or several
        where ``both_hint`` says how to choose, is an error."""
        found = [name for name, folder in folders.items()
                 if osp.isdir(osp.join(data_root or '', folder))]
        if not found:
            raise FileNotFoundError(
                f'{type(self).__name__}: data_root {data_root!r} holds '
                f'neither {what} for split {self.split!r}; looked for '
                f'{" and ".join(looked_for)} (see {DATA_README})')
        if both_hint and len(found) > 1:
            raise DatasetError(
                f'{type(self).__name__}: data_root {data_root!r} holds '
                f'both {what}s ({" and ".join(looked_for)}); {both_hint}')
        return found[0]

    def _refuse_derived_layout(self, kwargs: dict, derived_from: str,
                               hint: str = '') -> None:
        for key in ('data_prefix', 'img_suffix', 'seg_map_suffix'):
            if key in kwargs:
                raise ValueError(f'{type(self).__name__}: {key} follows '
                                 f'from {derived_from}{hint}')

    def _list_samples(self) -> List[dict]:
        """Data infos with ``img_path``, ``seg_map_path`` (the trainId file)
        and ``sample_name``: mmseg's listing, no ann_file line leading
        outside the folders."""
        if self.ann_file and osp.isfile(self.ann_file):
            read_id_lines(self.ann_file, f'{type(self).__name__} ann_file',
                          comments=False)
        infos = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', '')
        for info in infos:
            info['sample_name'] = osp.relpath(
                info['img_path'], img_dir)[:-len(self.img_suffix)]
        return infos

    def _check_image_dir(self) -> str:
        img_dir = self.data_prefix.get('img_path', '')
        if not osp.isdir(img_dir):
            where = '' if osp.isabs(img_dir) else (
                f', relative to the working folder {os.getcwd()}')
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {img_dir!r} does not '
                f'exist (data_root={self.data_root!r}{where}); expected the '
                f'{self.LAYOUT} layout described in {DATA_README}, where '
                'the IBNSEG_<DATASET>_ROOT variables that move a dataset '
                'are listed too')
        return img_dir

    def load_data_list(self) -> List[dict]:
        img_dir = self._check_image_dir()
        infos = self._list_samples()
        if not infos:
            raise FileNotFoundError(
                f'{type(self).__name__}: no "*{self.img_suffix}" images in '
                f'{img_dir!r}; expected the {self.LAYOUT} layout described '
                f'in {DATA_README}')
        infos = self._apply_subset(infos)
        infos = self._drop_skipped(infos)
        self._choose_label_files(infos)
        infos = self._drop_first_pass_broken(infos)
        self.label_id_samples = sum(LABEL_ID_TABLE_KEY in i for i in infos)
        self._check_label_loaders(len(infos))
        save_to = (self.subset or {}).get('save_to')
        if save_to:
            write_id_list(save_to, [i['sample_name'] for i in infos])
        return infos

    def _apply_subset(self, infos: List[dict]) -> List[dict]:
        if self.subset is None:
            return infos
        options = dict(self.subset)
        options.pop('save_to', None)
        chosen = set(
            select_subset([i['sample_name'] for i in infos], **options))
        return [i for i in infos if i['sample_name'] in chosen]

    def _under_root(self, path: str) -> str:
        """``path`` relative to ``data_root`` unless absolute, as mmengine
        takes ``ann_file``."""
        if osp.isabs(path) or not self.data_root:
            return path
        return osp.join(self.data_root, path)

    def _drop_skipped(self, infos: List[dict]) -> List[dict]:
        path = self.skip_report and self._under_root(self.skip_report)
        if not path or not osp.isfile(path):
            return infos
        skipped = read_skip_report(path)
        return self._drop(infos, skipped,
                          f'listed as broken in the skip report {path}')

    def _drop(self, infos: List[dict], skipped, why: str) -> List[dict]:
        """Drop the samples named in ``skipped`` with one warning."""
        kept = [i for i in infos if i['sample_name'] not in skipped]
        dropped = len(infos) - len(kept)
        if dropped:
            warnings.warn(f'{type(self).__name__}: skipping {dropped} of '
                          f'{len(infos)} samples {why}')
        if not kept:
            raise DatasetError(f'{type(self).__name__}: every sample is '
                               f'{why.split(";")[0]}')
        return kept

    def _drop_first_pass_broken(self, infos: List[dict]) -> List[dict]:
        if not self.first_pass:
            return infos
        img_dir = self.data_prefix.get('img_path', '')
        base = self.data_root or osp.dirname(osp.abspath(img_dir))
        skipped, report = check_pairs(
            [(i['sample_name'], i['img_path'], i['seg_map_path'])
             for i in infos],
            base,
            owner=type(self).__name__,
            cache_dir=self.first_pass_cache,
            max_pixels=self.first_pass_max_pixels,
            wide_labels={
                i['seg_map_path'] for i in infos
                if getattr(i.get(LABEL_ID_TABLE_KEY), 'channel', None)
                is not None
            })
        self.first_pass_skipped = skipped
        if not skipped:
            return infos
        problems = Counter(item.problem for item in skipped)
        where = f'the report {report}' if report else \
            'no report (it could not be written)'
        return self._drop(
            infos, {item.sample_id for item in skipped},
            'found broken by the first-pass check ('
            + ', '.join(f'{p}: {n}' for p, n in sorted(problems.items()))
            + f'), e.g. {skipped[0].sample_id}: {skipped[0].detail}; the '
            f'list is in {where}')

    def _label_id_table(self) -> LabelIdTable:
        """The table of the label-id files, asked for when a sample has
        one."""
        return self.LABEL_ID_TABLE

    def _choose_label_files(self, infos: List[dict]) -> None:
        """Point each sample at its trainId or label-id file, as
        ``label_format`` says; a missing image or label is an error."""
        missing_images, missing_labels, table = [], [], None
        for info in infos:
            if not osp.isfile(info['img_path']):
                missing_images.append(info['img_path'])
            train_ids_path = info['seg_map_path']
            label_ids_path = train_ids_path[:-len(self.seg_map_suffix)] + \
                self.label_ids_suffix
            if self.label_format != 'label_ids' and \
                    osp.isfile(train_ids_path):
                continue
            if self.label_format != 'train_ids' and \
                    osp.isfile(label_ids_path):
                info['seg_map_path'] = label_ids_path
                table = table or self._label_id_table()
                info[LABEL_ID_TABLE_KEY] = table
            else:
                missing_labels.append({
                    'train_ids': train_ids_path,
                    'label_ids': label_ids_path
                }.get(self.label_format,
                      f'{train_ids_path} or {label_ids_path}'))
        self._raise_missing('image', missing_images)
        self._raise_missing('label', missing_labels)

    def _check_label_loaders(self, num_samples: int) -> None:
        plain = [step for step in _label_loaders(self.pipeline)
                 if not isinstance(step, LoadLabelIdAnnotations)]
        if plain and self.label_id_samples:
            raise ValueError(
                f'{type(self).__name__}: {self.label_id_samples} of '
                f'{num_samples} samples '
                f'have only label-id files ("*{self.label_ids_suffix}"), '
                "which the pipeline's LoadAnnotations would train and score "
                'on as if they were trainIds. Use '
                "dict(type='LoadLabelIdAnnotations') in place of "
                "dict(type='LoadAnnotations'), or convert the labels first "
                f'({DATA_README}).')

    def _raise_missing(self, kind: str, missing: List[str]) -> None:
        if missing:
            tool = self.SKIP_REPORT_TOOL
            raise FileNotFoundError(
                f'{type(self).__name__}: {len(missing)} {kind} file(s) '
                f'not found, e.g. {missing[0]}. Check data_root, the split '
                f'or ann_file, and the layout in {DATA_README}' +
                (f'; {tool} lists broken pairs in the skip report that the '
                 'dataset honours.' if tool else '.'))

    def prepare_data(self, idx):
        """Run the pipeline; on failure, name the sample's files."""
        data_info = self.get_data_info(idx)
        try:
            return self.pipeline(data_info)
        except Exception as err:
            # a label-value error says itself what was expected
            hint = '' if isinstance(err, LabelValueError) else (
                ' Expected a decodable image and a single-channel label of '
                'the same size.')
            raise RuntimeError(
                f'{type(self).__name__}: cannot load sample {idx} '
                f"(image {data_info.get('img_path')}, label "
                f"{data_info.get('seg_map_path')}): {type(err).__name__}: "
                f"{str(err).rstrip('.')}.{hint}") from err

    def unknown_label_ids_summary(self) -> str:
        """What the label-id files this dataset loaded held outside the
        table (in this process: DataLoader workers count their own)."""
        for step in _label_loaders(self.pipeline):
            if isinstance(step, LoadLabelIdAnnotations):
                return step.unknown_label_ids_summary()
        return UnknownLabelIds().summary()
