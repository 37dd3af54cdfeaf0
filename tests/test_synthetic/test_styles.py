"""Appearance styles: resolution, inheritance and validation."""
import pytest

from ibnseg.synthetic import DOMAIN_STYLES, SOURCE_STYLE, resolve_style
from ibnseg.synthetic.materials import MATERIAL_NAMES


@pytest.mark.parametrize('domain', sorted(DOMAIN_STYLES))
def test_every_domain_resolves_to_a_complete_style(domain):
    style = resolve_style(domain)
    assert set(style) == set(SOURCE_STYLE)
    assert set(style['materials']) == set(MATERIAL_NAMES)
    assert (style == SOURCE_STYLE) == (domain == 'source')


def test_overrides_merge_per_material_key_over_the_base():
    real = resolve_style('real')
    assert real['materials']['road']['colors'] != \
        SOURCE_STYLE['materials']['road']['colors']
    # keys a domain does not set come from the source
    assert real['materials']['road']['jitter'] == \
        SOURCE_STYLE['materials']['road']['jitter']
    assert real['jitter'] == SOURCE_STYLE['jitter']
    # a custom style inherits from its base
    style = resolve_style(
        dict(base='dusk', sensor_noise=9.0,
             materials=dict(sky=dict(jitter=0))))
    dusk = resolve_style('dusk')
    assert style['sensor_noise'] == 9.0
    assert style['ambient'] == dusk['ambient']
    assert style['materials']['sky']['jitter'] == 0
    assert style['materials']['sky']['colors'] == \
        dusk['materials']['sky']['colors']


def test_resolved_styles_are_independent_copies():
    for domain in ('real', 'source'):
        style = resolve_style(domain)
        style['materials']['road']['colors'].append((0, 0, 0))
        style['haze'] = 5.0
        assert resolve_style(domain) != style


@pytest.mark.parametrize('style, message', [
    ('sepia', "unknown synthetic domain 'sepia'"),
    (dict(hazy=1), "unknown key 'hazy'"),
    (dict(materials=dict(tarmac=dict())), "unknown material 'tarmac'"),
    (dict(materials=dict(road=dict(shade=1))), 'unknown keys'),
    (dict(materials=dict(road=dict(colors=[(300, 0, 0)]))), 'road.colors'),
    (dict(materials=dict(road=dict(colors=[]))), 'road.colors'),
    (dict(materials=dict(road=dict(texture=(0.1, -1, 0)))), 'road.texture'),
    (dict(gamma=0), 'gamma'),
    (dict(vignette=1.5), 'vignette'),
    (dict(white_balance=(1, 1)), 'white_balance'),
    (dict(jitter=dict(hue=0.1)), 'unknown jitter keys'),
    (dict(base='sepia'), "unknown synthetic domain 'sepia'"),
])
def test_bad_styles_are_named(style, message):
    with pytest.raises(ValueError, match=message):
        resolve_style(style)


def test_style_must_be_a_name_or_dict():
    with pytest.raises(TypeError, match='style'):
        resolve_style(3)
