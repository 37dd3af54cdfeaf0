"""The BDD100K drivable-area configs (issue 26): each builds its datasets on
generated data at the default data root, every condition row is the val
split filtered by BDD's frame attributes, and the evaluator reports BDD's
drivable mIoU. (Training runs in tests/e2e/test_bdd_drivable.py.)"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import ibnseg  # noqa: F401
from tests.helpers.data_factory import make_bdd100k_drivable
from tests.helpers.tools import REPO_ROOT

CONFIGS = sorted(
    osp.basename(p)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*bdd_drivable*.py')))


def test_the_six_short_names():
    assert CONFIGS == sorted(f'{b}_bdd_drivable{c}.py'
                             for b in ('r50', 'ibn_a', 'ibn_b')
                             for c in ('', '_day_clear'))


@pytest.mark.slow
def test_configs_build_their_rows(tmp_path, monkeypatch):
    monkeypatch.delenv('IBNSEG_BDD100K_ROOT', raising=False)
    make_bdd100k_drivable(tmp_path / 'data' / 'bdd100k',
                          splits={'train': 2, 'val': 8})
    monkeypatch.chdir(tmp_path)  # the configs' default data root
    init_default_scope('mmseg')
    built = {}
    for name in CONFIGS:
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
        assert cfg.model.backbone.ibn == {'r50': None, 'ibn': name[4]}[
            name[:3]]
        # output stride 8, as BDD100K's model zoo (R-50-D8)
        assert (cfg.model.backbone.strides,
                cfg.model.backbone.dilations) == ((1, 2, 1, 1), (1, 1, 2, 4))
        assert cfg.model.decode_head.num_classes == 3
        assert cfg.model.auxiliary_head.num_classes == 3
        day = name.endswith('_day_clear.py')
        rows = {row: spec.dataloader.dataset
                for row, spec in cfg.cross_domain.domains.items()}
        assert cfg.cross_domain.source == ('day_clear' if day
                                           else 'bdd_drivable')
        for row, dataset_cfg in [('train', cfg.train_dataloader.dataset),
                                 *rows.items()]:
            key = repr(dataset_cfg.to_dict())
            if key not in built:
                built[key] = DATASETS.build(dataset_cfg)
            dataset = built[key]
            # the generated frames' conditions (data factory): 6 daytime,
            # 3 clear, one of each other; all 8 unfiltered
            assert len(dataset) == {
                'bdd_drivable': 8, 'daytime': 6, 'clear': 3,
                'train': 1 if day else 2
            }.get(row, 1), (name, row)
        evaluator = Evaluator(cfg.val_evaluator)
        evaluator.dataset_meta = dataset.metainfo
        metric = evaluator.metrics[0]
        assert 'bdd_mIoU' in metric.metric_names
        assert metric.source_domain == cfg.cross_domain.source
