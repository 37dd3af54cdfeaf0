"""Fixtures for more than one test folder."""
import functools

import pytest
from mmengine.config import utils as config_utils


@pytest.fixture(scope='module')
def fast_mmseg_bases():
    """mmengine re-reads mmseg's 160 model-index YAML files for every
    ``mmseg::`` base; the answer never changes within a run. Modules that
    load many configs use it for all their tests (``pytestmark``)."""
    original = config_utils._get_cfg_metainfo
    config_utils._get_cfg_metainfo = functools.lru_cache(None)(original)
    yield
    config_utils._get_cfg_metainfo = original
