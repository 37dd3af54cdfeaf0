from .appearance import (APPEARANCE_SHIFTS, AppearanceShift, Blur,
                         ChannelShift, ContrastBrightness, Desaturate,
                         GammaShift, GaussianNoise, HueRotate, NightShift,
                         insert_appearance_shift)
from .formatting import PackDomainSegInputs
from .loading import LoadLabelIdAnnotations

__all__ = [
    'PackDomainSegInputs', 'LoadLabelIdAnnotations',
    'APPEARANCE_SHIFTS',
    'AppearanceShift', 'ChannelShift', 'ContrastBrightness', 'GammaShift',
    'HueRotate', 'Desaturate', 'Blur', 'GaussianNoise', 'NightShift',
    'insert_appearance_shift'
]
