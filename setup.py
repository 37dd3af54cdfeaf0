"""ibnseg's build; the metadata is in setup.cfg.

One addition to setuptools' build: ``ibnseg-config-scope.pth`` next to the
package in site-packages, which makes ``_base_ = ['ibnseg::...']`` work in
any mmengine config (see ibnseg/config_scope.py). The configs themselves are
package data under ``ibnseg/.mim/configs`` (a link to ``configs/``).
"""
import os
import runpy

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
# config_scope.py imports only the standard library: the build needs no
# torch or mmseg for it.
SCOPE = runpy.run_path(os.path.join(HERE, 'ibnseg', 'config_scope.py'))


class BuildPyWithPth(build_py):
    """build_py that also writes the ``.pth`` file at the top level."""

    def run(self):
        super().run()
        # A wheel takes build_lib whole. An editable wheel (PEP 660) takes
        # only its finder from build_lib and installs whatever is not
        # editable straight from install_lib, its unpacked wheel.
        folder = (self.get_finalized_command('install').install_lib
                  if self.editable_mode else self.build_lib)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, SCOPE['PTH_NAME']), 'w') as f:
            f.write(SCOPE['PTH_LINE'])

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:  # not in build_lib, not to be linked from it
            return outputs
        return outputs + [os.path.join(self.build_lib, SCOPE['PTH_NAME'])]


setup(cmdclass={'build_py': BuildPyWithPth})
