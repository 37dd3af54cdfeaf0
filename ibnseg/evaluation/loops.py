"""The one evaluation route: mmengine's ``ValLoop``/``TestLoop`` over each
row of the config's ``cross_domain`` section (a domain, possibly shifted),
each with its own dataloader and ``test_cfg``, into one evaluator; without
the section they are mmengine's loops. The config's ``val_dataloader``/
``test_dataloader`` (which the Runner and mmseg's APIs read) should be the
source's; one that differs is not evaluated, with a warning. While the rows
run, the loop's dataloader is a :class:`RowsLoader`.
"""
import copy
import logging
from typing import Dict, List, Optional, Sequence

from mmengine.config import ConfigDict
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import TestLoop, ValLoop
from mmseg.registry import DATASETS, LOOPS
from torch.utils.data import ConcatDataset

from ibnseg.datasets.subsets import seeded_subset
from ibnseg.engine.runner_state import built_train_loop
from .domains import EvalDomain, evaluation_rows
from .metrics import CrossDomainIoUMetric

#: During training each domain is validated on at most 500 frames (all of
#: Cityscapes val, 500 of GTA5's 6,382), the same ones on every machine.
DEFAULT_VAL_SUBSET = dict(count=500, seed=0)


class MissingDomainDataError(FileNotFoundError):
    """A domain's data cannot be found (or holds no sample)."""


def _build_dataset(row: EvalDomain, dataloader: dict):
    """``row``'s dataset, or a :class:`MissingDomainDataError` naming it."""
    dataset_cfg = dataloader['dataset']
    try:
        dataset = DATASETS.build(dataset_cfg)
    except FileNotFoundError as error:
        raise MissingDomainDataError(
            f"domain '{row.name}' of the cross_domain section: data not "
            f'found ({error})') from error
    if len(dataset) == 0:
        raise MissingDomainDataError(
            f"domain '{row.name}' of the cross_domain section: its dataset "
            f"has no sample (data_root={dataset_cfg.get('data_root')!r}, "
            f"data_prefix={dataset_cfg.get('data_prefix')!r})")
    return dataset


class RowsLoader:
    """The rows' dataloaders as one for mmengine's loops: the rows in order,
    each under its own ``test_cfg`` (set on ``model``); ``len`` and
    ``dataset`` are all rows', other attributes the current row's."""

    def __init__(self, loop, loaders: Dict[str, object], model):
        self.loop, self.loaders, self.model = loop, loaders, model
        self.current = next(iter(loaders.values()))
        self.dataset = ConcatDataset([x.dataset for x in loaders.values()])

    def __len__(self) -> int:
        return sum(len(loader) for loader in self.loaders.values())

    def __iter__(self):
        rank, world_size = get_dist_info()
        metrics = self.loop.evaluator.metrics
        for name, loader in self.loaders.items():
            self.current = loader
            test_cfg = self.loop.rows[name].test_cfg
            self.model.test_cfg = ConfigDict(test_cfg) if test_cfg else \
                self.loop.default_test_cfg
            starts = [len(metric.results) for metric in metrics]
            yield from loader
            # Each row's sampler pads its own shard (this rank holds
            # samples rank, rank + world_size, ...) and collect_results
            # drops padding only at the end: drop this row's here.
            kept = len(range(rank, len(loader.dataset), world_size))
            for metric, start in zip(metrics, starts):
                del metric.results[start + kept:]

    def __getattr__(self, name):
        # only called for what this class does not define
        if name in ('loaders', 'current'):
            raise AttributeError(name)
        return getattr(self.current, name)


class _MultiDomainLoopMixin:
    """Runs the rows through the loop's ``run_iter`` into its evaluator."""

    def _init_rows(self, runner, stage: str, dataloader,
                   domains: Optional[Sequence[str]] = None,
                   shifts: Sequence[str] = (),
                   shift_cfgs: Optional[Dict[str, dict]] = None) -> None:
        section = runner.cfg.get('cross_domain')
        self._stage = stage
        #: The rows in report order, None without a cross_domain section.
        self.rows: Optional[Dict[str, EvalDomain]] = None
        #: Row name -> why it was skipped (``skip_missing``).
        self.skipped: Dict[str, str] = {}
        self._datasets, self._loaders = {}, {}
        if section is None:
            return
        self.source, rows = evaluation_rows(
            section, runner.cfg.get('filename') or 'config', domains,
            shifts, shift_cfgs)
        self.rows = {row.name: row for row in rows}
        source = section['domains'][self.source]
        key = 'val_dataloader' if stage == 'val' and \
            'val_dataloader' in source else 'dataloader'
        if isinstance(dataloader, dict) and dataloader != source[key]:
            print_log(
                f'{stage}_dataloader of the config is not evaluated: with a '
                'cross_domain section each domain is evaluated with its own '
                f'dataloader; set cross_domain.domains.{self.source}.{key} '
                f'instead, and make {stage}_dataloader the same',
                logger='current', level=logging.WARNING)

    def _row_loaders(self, runner, subset: Optional[dict] = None,
                     skip_missing: bool = False) -> dict:
        """Row name -> dataloader (built once with, once without ``subset``),
        each with the first row's classes; ``skip_missing`` leaves out a
        target without data, with a warning."""
        stage, key = self._stage, subset is not None
        if key in self._loaders:
            return self._loaders[key]
        loaders, classes = {}, None
        for name, row in self.rows.items():
            if name in self.skipped:
                continue
            dataloader = copy.deepcopy(
                row.val_dataloader if stage == 'val' else row.dataloader)
            try:
                # the subset and the full-split validation share it
                if name not in self._datasets:
                    self._datasets[name] = _build_dataset(
                        row, dataloader)
            except MissingDomainDataError as error:
                source = row.domain == self.source
                if source or not skip_missing:
                    hint = ''
                    if source and skip_missing:
                        hint = '; the source domain cannot be skipped'
                    elif not source and stage == 'test':
                        hint = ('; pass --skip-missing to evaluate the '
                                'other domains')
                    raise MissingDomainDataError(f'{error}{hint}') from None
                print_log(f'skipping {error}', logger='current',
                          level=logging.WARNING)
                self.skipped[name] = str(error)
                continue
            dataset = self._datasets[name]
            if classes is None:
                first, classes = name, tuple(dataset.metainfo['classes'])
            elif tuple(dataset.metainfo['classes']) != classes:
                raise ValueError(
                    f"domains '{first}' and '{name}' have different classes: "
                    f"{classes} vs {tuple(dataset.metainfo['classes'])}")
            if subset is not None:
                dataset = seeded_subset(dataset, **subset)
            dataloader['dataset'] = dataset
            loaders[name] = runner.build_dataloader(
                dataloader, seed=runner.seed)
        self._loaders[key] = loaders
        return loaders

    @property
    def targets(self) -> List[str]:
        """The evaluated clean rows but the source."""
        return [name for name, row in self.rows.items()
                if row.shift is None and name != self.source
                and name not in self.skipped]

    def _run_rows(self, run, loaders: dict, subset: Optional[dict]) -> dict:
        """mmengine's ``run`` over the rows, the metrics told the rows."""
        for metric in self.evaluator.metrics:
            if isinstance(metric, CrossDomainIoUMetric):
                metric.set_domains(self.source, list(loaders), self.targets)
        what = (f"a seeded subset (at most {subset['count']} samples, seed "
                f"{subset['seed']})" if subset else 'the full splits')
        counts = ', '.join(f'{name} {len(loader.dataset)}'
                           for name, loader in loaders.items())
        print_log(f'{self._stage}: {len(loaders)} domains on {what}: '
                  f'{counts}', logger='current')
        model = self.runner.model
        model = model.module if is_model_wrapper(model) else model
        # --tta: mmseg's SegTTAModel runs the segmentor that holds test_cfg
        if isinstance(model, BaseTTAModel):
            model = model.module
        self.default_test_cfg = model.test_cfg
        self.dataloader = RowsLoader(self, loaders, model)
        try:
            return run(self)
        finally:
            model.test_cfg = self.default_test_cfg


@LOOPS.register_module()
class MultiDomainValLoop(_MultiDomainLoopMixin, ValLoop):
    """mmengine's ``ValLoop`` over every domain of ``cfg.cross_domain``
    (its ``val_dataloader``, else ``dataloader``): during training on a
    seeded subset, after the last iteration on the full splits.

    Args:
        runner, dataloader, evaluator, fp16: As ``ValLoop``'s.
        subset (dict, optional): ``dict(count=N, seed=S)``: at most N
            samples per domain during training; None: the full splits.
            Defaults to ``dict(count=500, seed=0)``.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 subset: Optional[dict] = DEFAULT_VAL_SUBSET,
                 fp16: bool = False):
        self._init_rows(runner, 'val', dataloader)
        if subset is not None and (set(subset) != {'count', 'seed'}):
            raise ValueError(
                'MultiDomainValLoop: subset must be dict(count=<int>, '
                f'seed=<int>) or None, got {subset!r}')
        self.subset = None if subset is None else dict(subset)
        if self.rows is not None:
            # missing data fails now, not at the first validation
            dataloader = self._row_loaders(runner, self.subset)[self.source]
        super().__init__(runner, dataloader, evaluator, fp16)

    def _during_training(self) -> bool:
        loop = built_train_loop(self.runner)
        return loop is not None and loop.iter < loop.max_iters

    def run(self) -> dict:
        if self.rows is None:
            return super().run()
        subset = self.subset if self._during_training() else None
        return self._run_rows(ValLoop.run, self._row_loaders(
            self.runner, subset), subset)


@LOOPS.register_module()
class MultiDomainTestLoop(_MultiDomainLoopMixin, TestLoop):
    """mmengine's ``TestLoop`` over the domains of ``cfg.cross_domain``,
    each also under appearance shifts, on the full test splits.

    Args:
        runner, dataloader, evaluator, fp16: As ``TestLoop``'s.
        domains (Sequence[str], optional): Domains to evaluate (the source
            among them); default: all of the section.
        shifts (Sequence[str]): Appearance shifts; each adds a
            ``<domain>@<shift>`` row per domain, not averaged as a target.
        shift_cfgs (dict[str, dict], optional): Shift name -> transform
            config; default ``ibnseg.datasets.transforms.APPEARANCE_SHIFTS``.
        skip_missing (bool): Leave out (with a warning, in ``skipped``)
            target domains whose data is missing instead of failing.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 domains: Optional[Sequence[str]] = None,
                 shifts: Sequence[str] = (),
                 shift_cfgs: Optional[Dict[str, dict]] = None,
                 skip_missing: bool = False,
                 fp16: bool = False):
        self._init_rows(runner, 'test', dataloader, domains, shifts,
                        shift_cfgs)
        if self.rows is not None:
            dataloader = self._row_loaders(
                runner, skip_missing=skip_missing)[self.source]
        super().__init__(runner, dataloader, evaluator, fp16)

    def evaluated_rows(self) -> Dict[str, dict]:
        """Evaluated row name -> its ``domain``, ``shift``, ``test_cfg``,
        ``dataset`` (config) and ``num_samples``, for a report."""
        return {
            name: dict(domain=self.rows[name].domain,
                       shift=self.rows[name].shift,
                       test_cfg=self.rows[name].test_cfg,
                       dataset=self.rows[name].dataloader['dataset'],
                       num_samples=len(loader.dataset))
            for name, loader in self._row_loaders(self.runner).items()
        }

    def run(self) -> dict:
        if self.rows is None:
            return super().run()
        return self._run_rows(TestLoop.run,
                              self._row_loaders(self.runner), None)
