"""Pictures: per-class IoU bars and sample strips of an evaluation."""
from .evaluation_figures import (DomainSample, colorize, plot_per_class_iou,
                                 sample_strip, write_sample_strip)

__all__ = ['DomainSample', 'colorize', 'plot_per_class_iou', 'sample_strip',
           'write_sample_strip']
