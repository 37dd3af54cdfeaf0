"""Safe loading: mmengine's checkpoints load, arbitrary pickles are refused."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader, load_checkpoint

import ibnseg  # noqa: F401  (installs the safe loaders)
from ibnseg.utils import UnsafeCheckpointError, load_checkpoint_safely


class _RunsCommand:
    """Pickles as a call to os.system: what a malicious weight file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


class _ReachesPrivateAttribute:
    """Pickles as getattr(HistoryBuffer, '__init__'): getattr abuse."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def _mmengine_style_checkpoint(path):
    """What mmengine's Runner saves: message hub buffers, numpy values."""
    hub = MessageHub.get_instance('ibnseg-test-checkpoint')
    for step in range(3):
        hub.update_scalar('train/loss', np.float64(1.0 / (step + 1)))
    hub.update_info('seed', np.int64(7))
    torch.save(
        dict(meta=dict(iter=3, seed=np.int64(7)),
             state_dict=dict(weight=torch.arange(4.0)),
             message_hub=hub.state_dict()), path)


def test_mmengine_checkpoint_loads_safely(tmp_path):
    path = tmp_path / 'iter_3.pth'
    _mmengine_style_checkpoint(path)
    # Loading with the plain safe default fails without the allow-list;
    # with ibnseg imported, every mmengine loader path works.
    for loaded in (load_checkpoint_safely(path),
                   CheckpointLoader.load_checkpoint(str(path), 'cpu')):
        buffer = loaded['message_hub']['log_scalars']['train/loss']
        assert isinstance(buffer, HistoryBuffer)
        assert buffer.current() == pytest.approx(1 / 3)
        assert buffer.mean() == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
        assert loaded['meta']['seed'] == 7
        assert torch.equal(loaded['state_dict']['weight'], torch.arange(4.0))


@pytest.mark.parametrize('payload', ['command', 'getattr'])
def test_pickled_object_is_refused_with_file_name(tmp_path, payload):
    marker = tmp_path / 'code-ran'
    bad = _RunsCommand(marker) if payload == 'command' \
        else _ReachesPrivateAttribute()
    path = tmp_path / 'downloaded.pth'
    torch.save({'conv1.weight': torch.zeros(1), 'extra': bad}, path)

    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(str(path), 'cpu')
    message = str(info.value)
    assert str(path) in message
    assert 'refus' in message
    assert not marker.exists(), 'the pickled command must never run'


def test_refused_through_model_loading(tmp_path):
    """The paths users take: load_checkpoint and init_cfg=Pretrained."""
    marker = tmp_path / 'code-ran'
    path = tmp_path / 'weights.pth'
    torch.save({'weight': torch.zeros(2, 2), 'x': _RunsCommand(marker)}, path)
    model = torch.nn.Linear(2, 2)
    with pytest.raises(UnsafeCheckpointError, match='weights.pth'):
        load_checkpoint(model, str(path), map_location='cpu')

    from mmengine.model import BaseModule

    class Pretrained(BaseModule):
        def __init__(self):
            super().__init__(
                init_cfg=dict(type='Pretrained', checkpoint=str(path)))
            self.linear = torch.nn.Linear(2, 2)

    with pytest.raises(UnsafeCheckpointError, match='weights.pth'):
        Pretrained().init_weights()
    assert not marker.exists()


def test_plain_state_dict_still_loads(tmp_path):
    path = tmp_path / 'plain.pth'
    model = torch.nn.Linear(3, 2)
    torch.save(model.state_dict(), path)
    other = torch.nn.Linear(3, 2)
    load_checkpoint(other, str(path), map_location='cpu', strict=True)
    assert torch.equal(other.weight, model.weight)
