"""Fixtures for every test folder."""
import functools
import logging

import pytest
from mmengine.config import utils as config_utils

# mmengine's loggers keep the sys.stdout of the test that made them, which
# pytest closes after it; a tool run in a later test logging through one
# must not print "--- Logging error ---" into the stderr it asserts on.
logging.raiseExceptions = False


@pytest.fixture(scope='session', autouse=True)
def fast_mmseg_bases():
    """mmengine reads mmseg's 160 model-index YAML files again for every
    ``mmseg::`` base of every config it loads (and raises for the bases
    that are no model, so the lookup itself cannot be cached); the files
    never change within a run: read each once."""
    original = config_utils.load
    config_utils.load = functools.lru_cache(None)(original)
    yield
    config_utils.load = original
