"""Validation and test loops that evaluate every domain of a config.

mmengine's ``ValLoop``/``TestLoop`` take one dataloader. These run each
domain of the config's ``cross_domain`` section (see :mod:`.domains`) with
its own dataloader and ``test_cfg`` (resolution, sliding window) into the
one evaluator, so a single ``CrossDomainIoUMetric`` reports every domain,
the target mean and the drop. Each domain's results are collected across
processes before the next domain runs: each domain's sampler pads its own
shard, and ``collect_results`` only drops padding at the end of a list.

The loops call the usual hooks (logger, timer, visualization) with
``runner.val_dataloader``/``runner.test_dataloader`` set to the domain being
evaluated. A config without a ``cross_domain`` section gets mmengine's
``ValLoop``/``TestLoop`` behaviour unchanged, so the loops are safe defaults.

The config's ``val_dataloader``/``test_dataloader`` stay the source domain's
plain dataloaders: mmseg's ``MMSegInferencer`` reads
``test_dataloader.dataset.pipeline`` and the Runner requires them. With a
``cross_domain`` section the loops evaluate its domains instead.
"""
import copy
from typing import Dict, List, Optional

from mmengine.config import ConfigDict
from mmengine.dist import (broadcast_object_list, collect_results,
                           is_main_process)
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop, TestLoop, ValLoop
from mmengine.runner.loops import _parse_losses
from mmseg.registry import DATASETS, LOOPS

from ibnseg.datasets.subsets import select_subset
from .domains import EvalDomain, parse_cross_domain

#: The validation subset during training: the IBN-Net configs' targets
#: (Cityscapes val: 500 frames, GTA5 val: 6,382) are validated on at most
#: 500 frames each, the same ones on every machine.
DEFAULT_VAL_SUBSET = dict(count=500, seed=0)


def configured_domains(cfg) -> Optional[Dict[str, EvalDomain]]:
    """The domains of ``cfg.cross_domain`` in report order, or None."""
    section = cfg.get('cross_domain')
    if section is None:
        return None
    return parse_cross_domain(section, where=cfg.get('filename') or
                              'config')[1]


def seeded_subset(dataset, count: int, seed: int):
    """At most ``count`` samples of a built ``dataset``, chosen by
    :func:`~ibnseg.datasets.subsets.select_subset` from the sample names
    (the same ones on every machine); the dataset itself if it is small.
    """
    if len(dataset) <= count:
        return dataset
    names = [_sample_name(dataset.get_data_info(i))
             for i in range(len(dataset))]
    chosen = set(select_subset(names, count=count, seed=seed))
    return dataset.get_subset(
        [i for i, name in enumerate(names) if name in chosen])


def _sample_name(info: dict) -> str:
    # ibnseg's datasets name samples independently of the data root
    return info.get('sample_name') or info['img_path']


def _compute(metrics, gathered: List[list]) -> dict:
    """Each metric's values from its gathered results, on every process.

    ``BaseMetric.evaluate`` without its collection step: the loops collect
    per domain.
    """
    values = {}
    for metric, results in zip(metrics, gathered):
        payload = [None]
        if is_main_process():
            computed = metric.compute_metrics(results)
            if metric.prefix:
                computed = {f'{metric.prefix}/{key}': value
                            for key, value in computed.items()}
            payload = [computed]
        broadcast_object_list(payload)
        values.update(payload[0])
    return values


class _MultiDomainLoopMixin:
    """Runs the configured domains through the loop's ``run_iter``."""

    def _init_domains(self, subset: Optional[dict]):
        self.domains = configured_domains(self.runner.cfg)
        self.subset = None if subset is None else dict(subset)
        if self.subset is not None and set(self.subset) != {'count', 'seed'}:
            raise ValueError(
                f'{type(self).__name__}: subset must be dict(count=<int>, '
                f'seed=<int>), got {subset!r}')
        self._loaders = {}

    def _domain_loaders(self, stage: str, use_subset: bool) -> dict:
        """Row name -> dataloader of each domain, built once per mode.

        The full datasets are built first (a missing domain fails here,
        naming it, when the loop is built at start-up); the subset is
        drawn from them.
        """
        key = (stage, use_subset)
        if key not in self._loaders:
            loaders = {}
            for name, domain in self.domains.items():
                dataloader = copy.deepcopy(
                    domain.val_dataloader if stage == 'val' else
                    domain.dataloader)
                try:
                    built = DATASETS.build(dataloader['dataset'])
                except (FileNotFoundError, ValueError) as error:
                    raise type(error)(
                        f"domain '{name}' of the cross_domain section: "
                        f'{error}') from error
                if len(built) == 0:
                    raise ValueError(
                        f"domain '{name}' of the cross_domain section: its "
                        f'{stage} dataset has no sample (data_root='
                        f"{dataloader['dataset'].get('data_root')!r})")
                if use_subset:
                    built = seeded_subset(built, **self.subset)
                dataloader['dataset'] = built
                loaders[name] = self.runner.build_dataloader(
                    dataloader, seed=self.runner.seed)
            self._loaders[key] = loaders
        return self._loaders[key]

    def _log_domains(self, stage: str, loaders: dict, use_subset: bool):
        what = (f"a seeded subset (at most {self.subset['count']} samples, "
                f"seed {self.subset['seed']})" if use_subset else
                'the full splits')
        counts = ', '.join(f'{name} {len(loader.dataset)}'
                           for name, loader in loaders.items())
        print_log(f'{stage}: {len(loaders)} domains on {what}: {counts}',
                  logger='current')

    def _run_domains(self, loaders: dict) -> dict:
        model = self.runner.model
        model = model.module if is_model_wrapper(model) else model
        default_test_cfg = model.test_cfg
        metrics = self.evaluator.metrics
        gathered = [[] for _ in metrics]
        try:
            for name, domain in self.domains.items():
                loader = loaders[name]
                # hooks read runner.<stage>_dataloader: the current domain's
                self.dataloader = loader
                model.test_cfg = ConfigDict(domain.test_cfg) \
                    if domain.test_cfg else default_test_cfg
                for idx, data_batch in enumerate(loader):
                    self.run_iter(idx, data_batch)
                for metric, part in zip(metrics, gathered):
                    part.extend(
                        collect_results(metric.results, len(loader.dataset),
                                        metric.collect_device) or [])
                    metric.results.clear()
        finally:
            model.test_cfg = default_test_cfg
        return _compute(metrics, gathered)


@LOOPS.register_module()
class MultiDomainValLoop(_MultiDomainLoopMixin, ValLoop):
    """mmengine's ``ValLoop`` over every domain of ``cfg.cross_domain``.

    During training each domain is validated on a seeded subset of its
    validation split (the domain's ``val_dataloader``, else its
    ``dataloader``); the validation after the last training iteration,
    and validation outside training, use the full splits. The log says
    which, with each domain's sample count.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The config's ``val_dataloader``;
            evaluated only when the config has no ``cross_domain`` section.
        evaluator (Evaluator | dict | list): The evaluator, e.g. a
            ``CrossDomainIoUMetric``.
        subset (dict, optional): ``dict(count=N, seed=S)``: validate on at
            most N samples per domain during training. None validates on the
            full splits every time. Defaults to ``dict(count=500, seed=0)``.
        fp16 (bool): Validate under autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 subset: Optional[dict] = DEFAULT_VAL_SUBSET,
                 fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16)
        self._init_domains(subset)
        if self.domains is not None:
            # finds missing data now, not at the first validation
            self._domain_loaders('val', self.subset is not None)

    def _during_training(self) -> bool:
        # mmengine 0.10.7 has no public "is training" flag, and the
        # runner.train_loop property builds the loop (and its dataloader)
        # when it is still a config: look at the built one.
        loop = getattr(self.runner, '_train_loop', None)
        return isinstance(loop, BaseLoop) and loop.iter < loop.max_iters

    def run(self) -> dict:
        if self.domains is None:
            return super().run()
        use_subset = self.subset is not None and self._during_training()
        loaders = self._domain_loaders('val', use_subset)
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        self._log_domains('val', loaders, use_subset)
        metrics = self._run_domains(loaders)
        if self.val_loss:
            metrics.update(_parse_losses(self.val_loss, 'val'))
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics


@LOOPS.register_module()
class MultiDomainTestLoop(_MultiDomainLoopMixin, TestLoop):
    """mmengine's ``TestLoop`` over every domain of ``cfg.cross_domain``,
    each on its full test split (the domain's ``dataloader``).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The config's ``test_dataloader``;
            evaluated only when the config has no ``cross_domain`` section.
        evaluator (Evaluator | dict | list): The evaluator.
        fp16 (bool): Test under autocast. Defaults to False.
    """

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16)
        self._init_domains(None)
        if self.domains is not None:
            self._domain_loaders('test', False)

    def run(self) -> dict:
        if self.domains is None:
            return super().run()
        loaders = self._domain_loaders('test', False)
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.test_loss.clear()
        self._log_domains('test', loaders, False)
        metrics = self._run_domains(loaders)
        if self.test_loss:
            metrics.update(_parse_losses(self.test_loss, 'test'))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics
