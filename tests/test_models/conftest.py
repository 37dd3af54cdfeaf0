import pytest
import torch
from mmengine.logging import MMLogger

# One thread: the numeric comparisons and timings of this folder do not
# depend on the machine's core count.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def quiet_init_log():
    """mmengine logs every parameter's init at INFO."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    yield
    logger.setLevel(level)
