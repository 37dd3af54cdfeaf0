"""The ``cross_domain`` config section, where a config names its evaluation
domains (in report order) and nowhere else::

    cross_domain = dict(
        source='cityscapes',
        domains=dict(
            cityscapes=dict(dataloader=cityscapes_test_dataloader),
            gta5=dict(dataloader=gta5_test_dataloader,
                      val_dataloader=gta5_val_dataloader,  # optional
                      test_cfg=dict(mode='slide', ...))))  # optional

Each domain's pipelines are tagged with its name (:func:`tag_domain`);
:mod:`.loops` evaluates the section.
"""
import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from ibnseg.datasets.transforms import (APPEARANCE_SHIFTS,
                                        insert_appearance_shift)
from .metrics.cross_domain_iou_metric import check_domain_name

#: Joins domain and shift in a row name (``gta5@grey``); not in domain names.
SHIFT_SEPARATOR = '@'


@dataclass
class EvalDomain:
    """One row of the evaluation: ``domain`` (a configured one), possibly
    under ``shift``, named ``<domain>`` or ``<domain>@<shift>``; its
    dataloaders have tagged pipelines."""
    name: str
    domain: str
    dataloader: dict = field(repr=False)
    val_dataloader: dict = field(repr=False)
    test_cfg: Optional[dict] = None
    shift: Optional[str] = None


def tag_domain(pipeline: Sequence[dict], domain: str,
               rename: bool = False) -> List[dict]:
    """A copy of ``pipeline`` whose packing (the last step, or each of a
    final ``TestTimeAug``'s last list) is ``PackDomainSegInputs(domain)``;
    one already naming another domain is an error unless ``rename``."""
    check_domain_name(domain)
    pipeline = copy.deepcopy(list(pipeline))
    last_step = pipeline[-1] if pipeline else dict(type='nothing')
    augmented = str(last_step.get('type')).split('.')[-1] == 'TestTimeAug'
    packs = (list(last_step['transforms'][-1]) if augmented
             and last_step.get('transforms') else [last_step])
    for pack in packs:
        last = str(pack.get('type')).split('.')[-1]  # 'mmseg.X' names X too
        if last not in ('PackSegInputs', 'PackDomainSegInputs'):
            raise ValueError(
                f"pipeline of domain '{domain}' must end with PackSegInputs "
                f'or PackDomainSegInputs, but ends with {last}')
        if (last == 'PackDomainSegInputs' and not rename
                and pack.get('domain', domain) != domain):
            raise ValueError(f"pipeline of domain '{domain}' ends with "
                             f"PackDomainSegInputs(domain={pack['domain']!r})")
        pack.update(type='PackDomainSegInputs', domain=domain)
    return pipeline


def _tagged(dataloader: dict, domain: str, name: str, shift_cfg=None):
    dataloader = copy.deepcopy(dict(dataloader))
    dataset = dataloader.get('dataset')
    if not isinstance(dataset, dict) or 'pipeline' not in dataset:
        raise ValueError(f"cross_domain.domains.{domain}.dataloader needs a "
                         'dataset with a pipeline')
    pipeline = tag_domain(dataset['pipeline'], name, rename=name != domain)
    dataset['pipeline'] = (pipeline if shift_cfg is None else
                           insert_appearance_shift(pipeline, shift_cfg))
    return dataloader


def parse_cross_domain(cross_domain: dict, where: str = 'config'):
    """The source and the domains (tagged, in report order) of a checked
    ``cross_domain`` section; ``where`` names the config in errors."""
    form = ('dict(dataloader=..., val_dataloader=...(optional), '
            'test_cfg=...(optional))')
    if not isinstance(cross_domain, dict):
        raise ValueError(
            f'{where} has no cross_domain section; add cross_domain = dict('
            f"source='<domain>', domains=dict(<domain>={form}, ...))")
    source, domains = cross_domain.get('source'), cross_domain.get('domains')
    if not isinstance(domains, dict) or not domains:
        raise ValueError(f'{where}: cross_domain.domains must be a non-empty '
                         f'dict of domain name -> {form}')
    if source not in domains:
        raise ValueError(f'{where}: cross_domain.source {source!r} is not one '
                         f'of cross_domain.domains ({", ".join(domains)})')
    parsed = OrderedDict()
    for name, spec in domains.items():
        if SHIFT_SEPARATOR in check_domain_name(name):
            raise ValueError(f'{where}: domain name {name!r} may not contain '
                             f"'{SHIFT_SEPARATOR}' (it marks shifted rows)")
        unknown = set(spec) - {'dataloader', 'val_dataloader', 'test_cfg'}
        if 'dataloader' not in spec or unknown:
            raise ValueError(
                f'{where}: cross_domain.domains.{name} must be {form}'
                + (f'; unknown keys {sorted(unknown)}' if unknown else ''))
        loaders = [_tagged(spec[key], name, name)
                   for key in ('dataloader', 'val_dataloader') if key in spec]
        test_cfg = spec.get('test_cfg')
        parsed[name] = EvalDomain(name, name, loaders[0], loaders[-1],
                                  None if test_cfg is None else dict(test_cfg))
    return source, parsed


def with_shift(domain: EvalDomain, shift: str,
               shifts: Dict[str, dict]) -> EvalDomain:
    """The row evaluating ``domain`` under ``shifts[shift]`` (shift name
    -> transform config, e.g. ``APPEARANCE_SHIFTS``)."""
    if shift not in shifts:
        raise KeyError(f'unknown appearance shift {shift!r}; known: '
                       f'{", ".join(shifts)}')
    name = f'{domain.domain}{SHIFT_SEPARATOR}{shift}'
    dataloader = _tagged(domain.dataloader, domain.domain, name, shifts[shift])
    return EvalDomain(name, domain.domain, dataloader, dataloader,
                      domain.test_cfg, shift)


def evaluation_rows(cross_domain: dict,
                    where: str = 'config',
                    domains: Optional[Sequence[str]] = None,
                    shifts: Sequence[str] = (),
                    shift_cfgs: Optional[Dict[str, dict]] = None):
    """The source and the rows: the ``domains`` kept (default all, the
    source among them), then each under each of ``shifts`` (keys of
    ``shift_cfgs``, default ``APPEARANCE_SHIFTS``)."""
    source, configured = parse_cross_domain(cross_domain, where)
    names = domains or list(configured)
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ValueError(f'--domains {", ".join(unknown)}: not in '
                         f'cross_domain.domains of {where} (configured: '
                         f'{", ".join(configured)})')
    if source not in names:
        raise ValueError(f"--domains must include the source domain "
                         f"'{source}' of {where}: the drop is measured "
                         'against it')
    clean = [d for name, d in configured.items() if name in names]
    shift_cfgs = APPEARANCE_SHIFTS if shift_cfgs is None else shift_cfgs
    rows = [with_shift(d, s, shift_cfgs) for d in clean for s in shifts]
    return source, clean + rows


def cross_domain_evaluator(cross_domain: dict, **kwargs) -> dict:
    """A ``CrossDomainIoUMetric`` config reporting the section's domains in
    order; ``kwargs``: its other options."""
    source, domains = parse_cross_domain(cross_domain)
    return dict(type='CrossDomainIoUMetric', source_domain=source,
                domains=list(domains), **kwargs)
