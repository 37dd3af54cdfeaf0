"""Code blocks of the README, as the tests run them."""
from pathlib import Path

from tests.helpers.tools import REPO_ROOT


def readme_plugin_snippet():
    """The README's config for an IBN backbone on an mmseg base: the first
    Python block of its plugin section, exactly as written."""
    readme = Path(REPO_ROOT, 'README.md').read_text()
    section = readme.split('\n## As a plugin in your own mmseg project\n')[1]
    section = section.split('\n## ')[0]
    return section.split('```python\n')[1].split('```')[0]
