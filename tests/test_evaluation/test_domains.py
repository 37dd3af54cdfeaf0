"""The cross_domain config section, pipeline tagging, shifted rows and the
evaluator helper."""
import copy

import pytest
from mmengine.config import ConfigDict

from ibnseg.datasets.transforms import APPEARANCE_SHIFTS
from ibnseg.evaluation import (cross_domain_evaluator, evaluation_rows,
                               parse_cross_domain, tag_domain, with_shift)
from tests.helpers.tiny_setup import cross_domain_section

ROOTS = dict(cityscapes='data/cityscapes', gta5='data/gta5')
SECTION = cross_domain_section(ROOTS)


def pipeline_of(domain):
    return domain.dataloader['dataset']['pipeline']


def test_tag_domain_converts_or_checks_the_last_step():
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='PackSegInputs', meta_keys=('img_path', ))]
    tagged = tag_domain(pipeline, 'gta5')
    assert tagged[-1] == dict(type='PackDomainSegInputs', domain='gta5',
                              meta_keys=('img_path', ))
    assert pipeline[-1]['type'] == 'PackSegInputs'  # input untouched
    assert tag_domain(tagged, 'gta5') == tagged
    scoped = tag_domain([dict(type='mmseg.PackSegInputs')], 'bdd')
    assert scoped[-1]['domain'] == 'bdd'
    with pytest.raises(ValueError,
                       match=r"PackDomainSegInputs\(domain='gta5'"):
        tag_domain(tagged, 'cityscapes')
    assert tag_domain(tagged, 'cityscapes', rename=True)[-1]['domain'] == \
        'cityscapes'
    with pytest.raises(ValueError, match="domain 'x'.*ends with Resize"):
        tag_domain([dict(type='Resize')], 'x')


@pytest.mark.parametrize('section, message', [
    (None, 'x.py has no cross_domain section'),
    ((SECTION, ['cityscapes', 'bdd']), '--domains bdd: not in'),
    ((SECTION, ['gta5']), "--domains must include the source domain "
     "'cityscapes'"),
    (dict(source='a', domains={}), 'non-empty dict'),
    (dict(source='b', domains=dict(a=dict(dataloader={}))),
     "source 'b' is not one of"),
    (dict(source='a', domains=dict(a=dict(dataloader={}, mode='slide'))),
     r"unknown keys \['mode'\]"),
    (dict(source='a', domains=dict(a=dict(dataloader=dict(batch_size=1)))),
     'needs a dataset with a pipeline'),
    (dict(source='drop', domains=dict(drop=dict(dataloader={}))),
     'cannot name a domain'),
    (dict(source='a@b', domains={'a@b': dict(dataloader={})}),
     "may not contain '@'"),
])
def test_errors_say_what_to_fix(section, message):
    section, domains = section if isinstance(section, tuple) else (section,
                                                                   None)
    with pytest.raises(ValueError, match=message):
        evaluation_rows(section, 'x.py', domains)


def test_rows_are_the_selected_domains_then_their_shifts():
    source, rows = evaluation_rows(SECTION, 'x.py', ['gta5', 'cityscapes'],
                                   ['grey', 'blur2'])
    assert source == 'cityscapes'
    assert [r.name for r in rows] == [
        'cityscapes', 'gta5', 'cityscapes@grey', 'cityscapes@blur2',
        'gta5@grey', 'gta5@blur2']
    row, gta5 = rows[4], rows[1]
    assert (row.domain, row.shift, row.test_cfg) == ('gta5', 'grey',
                                                     gta5.test_cfg)
    # the shift comes right after loading the image
    steps = pipeline_of(row)
    assert steps[1] == APPEARANCE_SHIFTS['grey']
    assert steps[-1] == dict(type='PackDomainSegInputs', domain='gta5@grey')
    assert len(steps) == len(pipeline_of(gta5)) + 1
    with pytest.raises(KeyError, match="unknown appearance shift 'nope'"):
        with_shift(gta5, 'nope', APPEARANCE_SHIFTS)


def test_parse_tags_every_loader_and_makes_the_evaluator():
    section = cross_domain_section(ROOTS, source='gta5')
    val_loader = copy.deepcopy(section['domains']['gta5']['dataloader'])
    val_loader['dataset']['split'] = 'val.txt'
    section['domains']['gta5']['val_dataloader'] = val_loader
    source, domains = parse_cross_domain(ConfigDict(section), 'x.py')
    assert source == 'gta5' and list(domains) == ['cityscapes', 'gta5']
    assert domains['gta5'].test_cfg['mode'] == 'slide'
    # validation reads val_dataloader where given, the test loader otherwise
    assert domains['gta5'].val_dataloader['dataset']['split'] == 'val.txt'
    assert domains['gta5'].dataloader['dataset'].get('split') != 'val.txt'
    assert domains['cityscapes'].val_dataloader == \
        domains['cityscapes'].dataloader
    # both tagged with the domain's name; the config itself is not modified
    for domain in domains.values():
        for loader in (domain.dataloader, domain.val_dataloader):
            assert loader['dataset']['pipeline'][-1] == dict(
                type='PackDomainSegInputs', domain=domain.name)
    assert section['domains']['cityscapes']['dataloader']['dataset'][
        'pipeline'][-1] == dict(type='PackSegInputs')
    assert cross_domain_evaluator(section, classwise=False) == dict(
        type='CrossDomainIoUMetric',
        source_domain='gta5',
        domains=['cityscapes', 'gta5'],
        classwise=False)
