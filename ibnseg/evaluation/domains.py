"""The ``cross_domain`` config section: which domains to evaluate, and how.

A config names its evaluation domains here and nowhere else::

    cross_domain = dict(
        source='cityscapes',
        domains=dict(  # report order
            cityscapes=dict(dataloader=cityscapes_test_dataloader,
                            test_cfg=dict(mode='whole')),
            gta5=dict(dataloader=gta5_test_dataloader,
                      val_dataloader=gta5_val_dataloader,
                      test_cfg=dict(mode='slide', crop_size=(512, 512),
                                    stride=(341, 341)))))

Each domain has a test dataloader config (its own resolution lives in its
pipeline), optionally a ``val_dataloader`` for validation during training
(default: the test one) and a ``test_cfg`` (whole or sliding-window
inference) that replaces ``model.test_cfg`` while that domain is evaluated.
Each pipeline's last step is tagged with the domain's name
(:func:`tag_domain`), so a pipeline need not name it.

The loops of :mod:`.loops` (``MultiDomainValLoop``, ``MultiDomainTestLoop``)
evaluate the section during training and in ``tools/test.py``, and
``tools/cross_domain_eval.py`` reads it too, into one evaluator::

    val_evaluator = cross_domain_evaluator(cross_domain)

(a plain function of the dict, callable inside a config file after
``from ibnseg.evaluation import cross_domain_evaluator``).
"""
import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from ibnseg.datasets.transforms import (APPEARANCE_SHIFTS,
                                        insert_appearance_shift)
from .metrics.cross_domain_iou_metric import check_domain_name

PACK_TYPES = ('PackSegInputs', 'PackDomainSegInputs')
#: Joins a domain and a shift into a row name: ``gta5@grey``. Configured
#: domain names may not contain it, so row names never collide.
SHIFT_SEPARATOR = '@'


@dataclass
class EvalDomain:
    """One row of the evaluation: a domain, possibly under a shift.

    Attributes:
        name (str): Row name, the domain's name or ``<domain>@<shift>``.
        domain (str): The configured domain it reads.
        dataloader (dict): Its test dataloader config, pipeline tagged.
        val_dataloader (dict): Its validation dataloader config, pipeline
            tagged (the test one unless the section gives another).
        test_cfg (dict, optional): Inference settings for this domain.
        shift (str, optional): The appearance shift applied, if any.
    """
    name: str
    domain: str
    dataloader: dict = field(repr=False)
    val_dataloader: dict = field(repr=False)
    test_cfg: Optional[dict] = None
    shift: Optional[str] = None


def _type_name(step: dict) -> str:
    # 'mmseg.PackSegInputs' (scoped) names the same transform.
    return str(step.get('type')).split('.')[-1]


def tag_domain(pipeline: Sequence[dict], domain: str,
               rename: bool = False) -> List[dict]:
    """A copy of ``pipeline`` whose last step records ``domain``.

    A final ``PackSegInputs`` becomes ``PackDomainSegInputs`` (same
    ``meta_keys``); a final ``PackDomainSegInputs`` must name ``domain``,
    unless ``rename`` (used to derive a shifted row from a tagged domain).
    """
    check_domain_name(domain)
    pipeline = copy.deepcopy(list(pipeline))
    if not pipeline or _type_name(pipeline[-1]) not in PACK_TYPES:
        last = _type_name(pipeline[-1]) if pipeline else 'nothing'
        raise ValueError(
            f"pipeline of domain '{domain}' must end with PackSegInputs or "
            f'PackDomainSegInputs, but ends with {last}')
    pack = pipeline[-1]
    if _type_name(pack) == 'PackDomainSegInputs':
        if not rename and pack.get('domain', domain) != domain:
            raise ValueError(
                f"pipeline of domain '{domain}' ends with "
                f"PackDomainSegInputs(domain={pack['domain']!r})")
    pack['type'] = 'PackDomainSegInputs'
    pack['domain'] = domain
    return pipeline


def _dataset_with_pipeline(dataloader: dict, domain: str, transform):
    """A copy of ``dataloader`` with ``transform`` applied to its pipeline."""
    dataloader = copy.deepcopy(dict(dataloader))
    dataset = dataloader.get('dataset')
    if not isinstance(dataset, dict) or 'pipeline' not in dataset:
        raise ValueError(f"cross_domain.domains.{domain}.dataloader needs a "
                         'dataset with a pipeline')
    dataset['pipeline'] = transform(dataset['pipeline'])
    return dataloader


def parse_cross_domain(cross_domain: dict, where: str = 'config'):
    """Check a ``cross_domain`` section and return its source and domains.

    Args:
        cross_domain (dict): The section (see the module docstring).
        where (str): Names the config in error messages.

    Returns:
        tuple[str, OrderedDict[str, EvalDomain]]: The source domain and the
        domains in report order, their pipelines tagged with their names.
    """
    if not isinstance(cross_domain, dict):
        raise ValueError(
            f'{where} has no cross_domain section; add cross_domain = dict('
            "source='<domain>', domains=dict(<domain>=dict(dataloader=..., "
            'test_cfg=...), ...))')
    source = cross_domain.get('source')
    domains = cross_domain.get('domains')
    if not isinstance(domains, dict) or not domains:
        raise ValueError(f'{where}: cross_domain.domains must be a non-empty '
                         'dict of domain name -> dict(dataloader=..., '
                         'test_cfg=...)')
    if source not in domains:
        raise ValueError(f'{where}: cross_domain.source {source!r} is not one '
                         f'of cross_domain.domains ({", ".join(domains)})')
    parsed = OrderedDict()
    for name, spec in domains.items():
        check_domain_name(name)
        if SHIFT_SEPARATOR in name:
            raise ValueError(f'{where}: domain name {name!r} may not contain '
                             f"'{SHIFT_SEPARATOR}' (it marks shifted rows)")
        unknown = set(spec) - {'dataloader', 'val_dataloader', 'test_cfg'}
        if 'dataloader' not in spec or unknown:
            raise ValueError(
                f'{where}: cross_domain.domains.{name} must be dict('
                'dataloader=..., val_dataloader=...(optional), '
                'test_cfg=...(optional))'
                + (f'; unknown keys {sorted(unknown)}' if unknown else ''))
        test_cfg = spec.get('test_cfg')
        tagged = [
            _dataset_with_pipeline(spec[key], name,
                                   lambda p, d=name: tag_domain(p, d))
            for key in ('dataloader', 'val_dataloader') if key in spec
        ]
        parsed[name] = EvalDomain(
            name=name,
            domain=name,
            dataloader=tagged[0],
            val_dataloader=tagged[-1],
            test_cfg=None if test_cfg is None else dict(test_cfg))
    return source, parsed


def with_shift(domain: EvalDomain, shift: str,
               shifts: Dict[str, dict]) -> EvalDomain:
    """The row evaluating ``domain`` under appearance shift ``shift``.

    Args:
        domain (EvalDomain): A clean domain from :func:`parse_cross_domain`.
        shift (str): A key of ``shifts``.
        shifts (dict[str, dict]): Shift name -> transform config, e.g.
            ``ibnseg.datasets.transforms.APPEARANCE_SHIFTS``.
    """
    if shift not in shifts:
        raise KeyError(f'unknown appearance shift {shift!r}; known: '
                       f'{", ".join(shifts)}')
    name = f'{domain.domain}{SHIFT_SEPARATOR}{shift}'
    check_domain_name(name)
    dataloader = _dataset_with_pipeline(
        domain.dataloader, domain.domain, lambda p: tag_domain(
            insert_appearance_shift(p, shifts[shift]), name, rename=True))
    return EvalDomain(name, domain.domain, dataloader, dataloader,
                      domain.test_cfg, shift)


def select_domains(source: str, configured: Dict[str, EvalDomain],
                   names: Optional[Sequence[str]],
                   where: str) -> List[EvalDomain]:
    """The configured domains named in ``names`` (all if None), in the
    config's order; the source must stay (the drop is measured from it)."""
    if not names:
        return list(configured.values())
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ValueError(f'--domains {", ".join(unknown)}: not in '
                         f'cross_domain.domains of {where} (configured: '
                         f'{", ".join(configured)})')
    if source not in names:
        raise ValueError(f"--domains must include the source domain "
                         f"'{source}' of {where}: the drop is measured "
                         'against it')
    return [d for name, d in configured.items() if name in names]


def evaluation_rows(cross_domain: dict,
                    where: str = 'config',
                    domains: Optional[Sequence[str]] = None,
                    shifts: Sequence[str] = (),
                    shift_cfgs: Optional[Dict[str, dict]] = None):
    """The rows an evaluation of the section runs: its domains (or those
    named in ``domains``), then each of them under each appearance shift.

    Args:
        cross_domain (dict): The section.
        where (str): Names the config in error messages.
        domains (Sequence[str], optional): Domains to keep; default all.
        shifts (Sequence[str]): Appearance shifts, keys of ``shift_cfgs``.
        shift_cfgs (dict[str, dict], optional): Shift name -> transform
            config; default ``ibnseg.datasets.transforms.APPEARANCE_SHIFTS``.

    Returns:
        tuple[str, list[EvalDomain]]: The source domain and the rows.
    """
    source, configured = parse_cross_domain(cross_domain, where)
    clean = select_domains(source, configured, domains, where)
    if shift_cfgs is None:
        shift_cfgs = APPEARANCE_SHIFTS
    return source, clean + [
        with_shift(d, s, shift_cfgs) for d in clean for s in shifts
    ]


def cross_domain_evaluator(cross_domain: dict, **kwargs) -> dict:
    """A ``val_evaluator``/``test_evaluator`` reporting the section's
    domains in its order.

    Args:
        cross_domain (dict): The config's ``cross_domain`` section.
        **kwargs: Other ``CrossDomainIoUMetric`` options.
    """
    source, domains = parse_cross_domain(cross_domain)
    return dict(
        type='CrossDomainIoUMetric',
        source_domain=source,
        domains=list(domains),
        **kwargs)
