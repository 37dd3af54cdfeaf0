"""Inference on one's own images, next to ``mmseg.apis`` (which serves
ibnseg's configs as they are): finding the images, loading a checkpoint
strictly, writing label PNGs and colour overlays (``tools/infer.py``)."""
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
