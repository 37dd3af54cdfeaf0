import pytest
from mmengine.logging import MMLogger


@pytest.fixture
def quiet_init_log():
    """mmengine logs every parameter's init at INFO; tests that build models
    with weights keep their output short by using this fixture."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    yield
    logger.setLevel(level)
