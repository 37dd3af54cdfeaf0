"""Code blocks of the README, as the tests run them."""
import re
from pathlib import Path

from tests.helpers.tools import REPO_ROOT


def readme_block(heading: str, language: str) -> str:
    """The first ```language block of the README section ``heading``."""
    text = Path(REPO_ROOT, 'README.md').read_text(encoding='utf-8')
    assert f'\n{heading}\n' in text, f'README.md has no section {heading!r}'
    section = text.split(f'\n{heading}\n', 1)[1].split('\n## ', 1)[0]
    block = re.search(rf'```{language}\n(.*?)```', section, re.S)
    assert block, f'no ```{language} block under {heading!r}'
    return block.group(1)


def readme_plugin_snippet() -> str:
    """The README's config for an IBN backbone on an mmseg base."""
    return readme_block('## As a plugin in your own mmseg project', 'python')


def readme_recipe() -> str:
    """The README's "Run it small on your own data" commands."""
    return readme_block('## Run it small on your own data', 'bash')
