"""Procedural street scenes in several appearance domains, the data of the
embedded synthetic cross-domain benchmark: layouts (:mod:`.scene`) decide
the labels, styles (:mod:`.styles`) and :mod:`.render` the appearance."""
from .generate import (LAYOUTS, MANIFEST_NAME, appearance_rng, cityscapes_city,
                       generate_domain_dataset, generate_sample, layout_rng)
from .materials import CLASS_LABEL_IDS, MATERIAL_LABEL_IDS, MATERIALS
from .preview import make_contact_sheet, save_contact_sheet
from .render import render_scene
from .scene import Scene, sample_scene
from .styles import DOMAIN_STYLES, SOURCE_STYLE, resolve_style

__all__ = [
    'CLASS_LABEL_IDS', 'DOMAIN_STYLES', 'LAYOUTS', 'MANIFEST_NAME',
    'MATERIALS', 'MATERIAL_LABEL_IDS', 'SOURCE_STYLE', 'Scene',
    'appearance_rng', 'cityscapes_city', 'generate_domain_dataset',
    'generate_sample', 'layout_rng', 'make_contact_sheet', 'render_scene',
    'resolve_style', 'sample_scene', 'save_contact_sheet'
]
