"""Per-class IoU bars and sample strips."""
import cv2
import numpy as np
import pytest

from ibnseg.datasets import PALETTE
from ibnseg.visualization import (DomainSample, colorize, plot_per_class_iou,
                                  sample_strip, write_sample_strip)


def read_rgb(path):
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image[..., ::-1]


def test_colorize_uses_the_palette_and_blacks_out_ignore():
    label = np.array([[0, 13], [255, 18]], dtype=np.uint8)
    np.testing.assert_array_equal(colorize(label, PALETTE), [
        [PALETTE[0], PALETTE[13]], [(0, 0, 0), PALETTE[18]]])


def test_sample_strip_rows_and_columns(tmp_path):
    rng = np.random.default_rng(0)
    samples = []
    for height, width in ((8, 16), (10, 10)):
        gt = np.full((height, width), 13, np.uint8)  # car
        pred = np.zeros((height, width), np.int64)  # road
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        samples.append(DomainSample(image=image, gt=gt, pred=pred))
    strip = sample_strip(samples, PALETTE, height=32, title='m on gta5')
    header = 44
    assert strip.shape[0] == header + 2 * (32 + 4)
    # first sample: 16x8 scaled to 64x32; columns image | gt | prediction
    row = strip[header + 16]
    assert row[64 + 4 + 10].tolist() == list(PALETTE[13])
    assert row[2 * (64 + 4) + 10].tolist() == list(PALETTE[0])
    path = tmp_path / 'strip.png'
    write_sample_strip(str(path), samples, PALETTE, title='m on gta5')
    np.testing.assert_array_equal(
        read_rgb(path), sample_strip(samples, PALETTE, title='m on gta5'))
    with pytest.raises(ValueError, match='no samples'):
        sample_strip([], PALETTE)


def test_per_class_bar_chart_draws_one_colour_per_series(tmp_path):
    path = tmp_path / 'bars.png'
    plot_per_class_iou(
        str(path), ['road', 'car', 'bus'], {
            'cityscapes (source)': [90.0, 60.0, float('nan')],
            'gta5': [40.0, None, 10.0],
        },
        title='r50')
    image = read_rgb(path)
    # matplotlib's first two default colours (C0 blue, C1 orange) are bars
    for color in ((31, 119, 180), (255, 127, 14)):
        assert (np.abs(image.astype(int) - color).sum(-1) < 10).sum() > 100
