"""One setting for image sizes, which a config names in many places:
:func:`apply_sizes` sets ``--crop-size HEIGHT WIDTH`` in every training
``RandomCrop``, ``model.data_preprocessor.size`` and ``crop_size``, and
``--scale WIDTH HEIGHT`` in every top-level ``Resize``/``RandomResize`` of
every pipeline (``cross_domain`` domains included; a pipeline without one
gets a keep-ratio ``Resize`` right after loading the image)."""
import argparse
from typing import Iterator, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

__all__ = ['add_size_args', 'apply_sizes', 'pipelines', 'positive_int']

#: The resize steps a scale is set on (mmseg's transforms).
RESIZES = ('Resize', 'RandomResize')


def positive_int(text: str) -> int:
    """argparse's ``type`` for a whole number >= 1 (else a usage error)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a positive whole number')
    return value


def add_size_args(parser: argparse.ArgumentParser,
                  crop: bool = True) -> None:
    """Add ``--scale`` and, with ``crop``, ``--crop-size``."""
    if crop:
        parser.add_argument(
            '--crop-size', nargs=2, type=positive_int,
            metavar=('HEIGHT', 'WIDTH'),
            help='training crop (every RandomCrop) and the model\'s '
            'data_preprocessor padding; mmseg\'s crop_size order')
    parser.add_argument(
        '--scale', nargs=2, type=positive_int, metavar=('WIDTH', 'HEIGHT'),
        help='resize scale of every pipeline: training (RandomResize keeps '
        'its ratio range) and evaluation (validation, test, every '
        'cross_domain domain); mmseg\'s Resize scale order, aspect ratio '
        'kept')


def step_type(step) -> str:
    """A pipeline step's type without a scope prefix ('' if not a dict)."""
    return str(step.get('type')).split('.')[-1] if isinstance(
        step, dict) else ''


def pipelines(cfg: Config) -> Iterator[Tuple[str, list, bool]]:
    """(config key, pipeline list, is training) for every pipeline the
    config holds: the dataloaders' datasets (wrapped ones too), the
    ``cross_domain`` domains', ``test_pipeline`` and ``tta_pipeline``."""
    loaders = [(key, cfg.get(key)) for key in
               ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    domains = (cfg.get('cross_domain') or {}).get('domains') or {}
    for name, spec in domains.items():
        for key in ('dataloader', 'val_dataloader'):
            if isinstance(spec, dict) and key in spec:
                loaders.append((f'cross_domain.domains.{name}.{key}',
                                spec[key]))
    for key, loader in loaders:
        if isinstance(loader, dict):
            yield from _dataset_pipelines(
                f'{key}.dataset', loader.get('dataset'),
                key == 'train_dataloader')
    for key in ('test_pipeline', 'tta_pipeline'):
        if isinstance(cfg.get(key), list):
            yield key, cfg.get(key), False


def _dataset_pipelines(key: str, dataset, train: bool):
    if not isinstance(dataset, dict):
        return
    if isinstance(dataset.get('pipeline'), list):
        yield f'{key}.pipeline', dataset['pipeline'], train
    # dataset wrappers: ConcatDataset(datasets=[...]), RepeatDataset(dataset)
    if isinstance(dataset.get('dataset'), dict):
        yield from _dataset_pipelines(f'{key}.dataset', dataset['dataset'],
                                      train)
    for i, inner in enumerate(dataset.get('datasets') or ()):
        yield from _dataset_pipelines(f'{key}.datasets.{i}', inner, train)


def _set_scale(pipeline: list, scale: Tuple[int, int]) -> None:
    resizes = [step for step in pipeline if step_type(step) in RESIZES]
    for step in resizes:
        step.pop('scale_factor', None)
        step['scale'] = scale
    if resizes:
        return
    loads = [i for i, step in enumerate(pipeline)
             if step_type(step) == 'LoadImageFromFile']
    at = loads[0] + 1 if loads else 0
    pipeline.insert(at, dict(type='Resize', scale=scale, keep_ratio=True))


def apply_sizes(cfg: Config,
                crop_size: Optional[Sequence[int]] = None,
                scale: Optional[Sequence[int]] = None) -> None:
    """Apply ``--crop-size`` and ``--scale`` (module docstring); ValueError
    for a crop size where the training pipeline has no ``RandomCrop``."""
    found = list(pipelines(cfg))
    said = []
    if crop_size is not None:
        crop_size = tuple(crop_size)
        crops = [step for _, pipeline, train in found if train
                 for step in pipeline if step_type(step) == 'RandomCrop']
        if not crops:
            raise ValueError('--crop-size: the config\'s training pipeline '
                             'has no RandomCrop step to set')
        for step in crops:
            step['crop_size'] = crop_size
        preprocessor = cfg.get('model', {}).get('data_preprocessor')
        if isinstance(preprocessor, dict):
            preprocessor['size'] = crop_size
        if 'crop_size' in cfg:
            cfg.crop_size = crop_size
        said.append(f'crop_size {crop_size} (HxW) in the training crop and '
                    'model.data_preprocessor.size')
    if scale is not None:
        scale = tuple(scale)
        for _, pipeline, _ in found:
            _set_scale(pipeline, scale)
        said.append(f'Resize scale {scale} (WxH) in {len(found)} pipelines')
    if said:
        print_log('--crop-size/--scale: ' + '; '.join(said),
                  logger='current')
