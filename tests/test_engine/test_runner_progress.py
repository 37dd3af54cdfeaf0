"""The train/test console's pieces: a line that starts part-way (a resumed
run, or training going on after a validation) and the metrics it shows."""
import io

from ibnseg.engine.progress import PhaseLine, format_metrics


def test_a_line_started_part_way_shows_its_count_from_the_start():
    stream = io.StringIO()
    line = PhaseLine('train', stream, total=4, interactive=True, done=2)
    assert '2/4 iters' in stream.getvalue()
    line.update(3)
    assert line.start_done == 2  # the ETA counts from iteration 2
    line.finish()
    assert stream.getvalue().rstrip('\n').endswith('3/4 iters  0s\x1b[K')


def test_metrics_show_the_miou_values_or_else_every_number():
    assert format_metrics({'aAcc': 90.0, 'mIoU': 45.123, 'mAcc': 50.0}) == \
        'mIoU 45.12'
    assert format_metrics({'a/mIoU': 1.0, 'b/mIoU': 2.0, 'a/aAcc': 3.0,
                           'per_class': 'table'}) == 'a/mIoU 1.00  b/mIoU 2.00'
    assert format_metrics({'loss': 0.5}) == 'loss 0.50'
    assert format_metrics(None) == ''
