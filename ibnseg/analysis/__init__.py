"""Feature-divergence analysis (IBN-Net paper, Sec. 3.1 / Fig. 2): how far
apart two image sets are in each residual layer of a backbone.
``tools/feature_divergence.py`` is the command line."""
from .divergence import (DEFAULT_EPS, ChannelMeanStats, feature_divergence,
                         gaussian_symmetric_kl)
from .runner import (LayerDivergence, ModelSpec, collect_set_stats,
                     compute_model_divergence, load_model, preprocess_images)
from .image_sets import (PAIR_TYPES, ImageSet, ImageSetPair, appearance_pair,
                         content_pair, domain_pair, iter_image_batches,
                         list_images, resolve_appearance_shift,
                         split_in_halves)
from .layer_hooks import (LAYER_LEVELS, ChannelStatsRecorder,
                          find_residual_layers, get_backbone)
from .report import (divergence_figure, plot_divergence_vs_depth,
                     write_divergence_csv, write_divergence_json)

__all__ = [
    'DEFAULT_EPS', 'ChannelMeanStats', 'feature_divergence',
    'gaussian_symmetric_kl', 'LayerDivergence', 'ModelSpec',
    'collect_set_stats', 'compute_model_divergence', 'load_model',
    'preprocess_images', 'PAIR_TYPES', 'ImageSet', 'ImageSetPair',
    'appearance_pair', 'content_pair', 'domain_pair', 'iter_image_batches',
    'list_images', 'resolve_appearance_shift', 'split_in_halves',
    'LAYER_LEVELS', 'ChannelStatsRecorder', 'find_residual_layers',
    'get_backbone', 'divergence_figure', 'plot_divergence_vs_depth',
    'write_divergence_csv', 'write_divergence_json'
]
