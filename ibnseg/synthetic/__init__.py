"""Procedural street scenes in several appearance domains, the data of the
embedded synthetic cross-domain benchmark: layouts (:mod:`.scene`) decide
the labels, styles (:mod:`.styles`) and :mod:`.render` the appearance."""
from .generate import (MANIFEST_NAME, cityscapes_city,
                       generate_domain_dataset, generate_sample)
from .materials import CLASS_LABEL_IDS, MATERIAL_LABEL_IDS, MATERIALS
from .preview import save_contact_sheet
from .render import render_scene
from .scene import sample_scene
from .styles import DOMAIN_STYLES, SOURCE_STYLE, resolve_style

__all__ = [
    'CLASS_LABEL_IDS', 'DOMAIN_STYLES', 'MANIFEST_NAME', 'MATERIALS',
    'MATERIAL_LABEL_IDS', 'SOURCE_STYLE', 'cityscapes_city',
    'generate_domain_dataset', 'generate_sample', 'render_scene',
    'resolve_style', 'sample_scene', 'save_contact_sheet'
]
