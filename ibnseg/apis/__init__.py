"""Inference on one's own images (``tools/infer.py``), next to mmseg.apis."""
from .inference import (IMAGE_EXTENSIONS, LABEL_FORMATS, PRED_DIR, VIS_DIR,
                        ImageInputError, ImageReadError, InputImage,
                        SegmentedImage, check_label_format,
                        check_output_paths, find_images,
                        inference_dataset_meta, init_segmentor,
                        load_segmentor, output_paths, segment_images,
                        to_label_format)

__all__ = [
    'IMAGE_EXTENSIONS', 'LABEL_FORMATS', 'PRED_DIR', 'VIS_DIR',
    'ImageInputError', 'ImageReadError', 'InputImage', 'SegmentedImage',
    'check_label_format', 'check_output_paths', 'find_images',
    'inference_dataset_meta', 'init_segmentor', 'load_segmentor',
    'output_paths', 'segment_images', 'to_label_format'
]
