"""ibnseg installed the way plugins are: a wheel built from a git URL into a
fresh environment that has mmseg and mmcv-lite but no ibnseg, then used from
a folder outside the repository (the plugin in an mmseg config, and an
``ibnseg::`` config); then tools/setup_env.sh's editable install, quiet.

The fresh environment is a venv whose one ``.pth`` line puts this venv's
site-packages on its path: its packages are found (no download), while
its ``.pth`` files, the editable ibnseg's finder among them, do not run."""
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from tests.helpers.readme import readme_plugin_snippet
from tests.helpers.tools import REPO_ROOT


def run(cmd, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(kwargs.pop('env', {}))
    proc = subprocess.run([str(c) for c in cmd], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300, **kwargs)
    assert proc.returncode == 0, f'{cmd}:\n{proc.stdout[-5000:]}'
    return proc.stdout


USER_SCRIPT = textwrap.dedent('''
    import os, sys
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import torch

    assert 'ibnseg' not in sys.modules
    scoped = Config.fromfile('scoped.py')     # _base_ = ['ibnseg::...']
    plugin = Config.fromfile('plugin.py')     # mmseg:: base + custom_imports
    import ibnseg
    from mmseg.registry import MODELS
    print('IBNSEG', os.path.dirname(ibnseg.__file__))
    init_default_scope('mmseg')
    for cfg in scoped, plugin:
        model = MODELS.build(cfg.model).eval()
        with torch.no_grad():
            out = model(torch.rand(1, 3, 64, 64), mode='tensor')
        print('MODEL', type(model.backbone).__name__, model.backbone.ibn,
              tuple(out.shape))
''')


@pytest.mark.slow
def test_wheel_from_git_url_then_setup_env_editable_install(tmp_path):
    # the working tree's files (tracked and new, as git sees them; links
    # kept as links): what is tested is what is about to be committed, and
    # builds write nothing into the checkout
    source = tmp_path / 'ibnseg-src'
    names = run(['git', 'ls-files', '-z', '--cached', '--others',
                 '--exclude-standard'], cwd=REPO_ROOT).split('\0')
    for name in filter(None, names):
        src, dst = os.path.join(REPO_ROOT, name), source / name
        if not os.path.lexists(src):
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isfile(src):
            shutil.copy2(src, dst)
    git = ['git', '-C', source, '-c', 'user.name=t', '-c', 'user.email=t@t']
    run(git + ['init', '-q'])
    run(git + ['add', '-A'])
    run(git + ['commit', '-q', '-m', 'snapshot'])
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    run(pip + ['wheel', '-q', '--no-deps', '--no-build-isolation', '-w',
               tmp_path / 'dist', f'git+file://{source}'])
    wheel, = (tmp_path / 'dist').glob('ibnseg-*.whl')

    venv = tmp_path / 'env'
    run([sys.executable, '-m', 'venv', '--without-pip', venv])
    python = venv / 'bin' / 'python'
    site = run([python, '-c', 'import sysconfig; '
                'print(sysconfig.get_paths()["purelib"])']).strip()
    with open(os.path.join(site, 'zz-base-packages.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    # --no-index: every requirement must already be met by mmseg's
    # environment with mmcv-lite; nothing is downloaded or built
    run(pip + ['--python', python, 'install', '-q', '--no-index', wheel])
    scope_pth = os.path.join(site, 'ibnseg-config-scope.pth')
    assert os.path.isfile(scope_pth)
    assert os.path.isfile(os.path.join(
        site, 'ibnseg', '.mim', 'configs', '_base_', 'default_runtime.py'))

    user = tmp_path / 'user_project'
    user.mkdir()
    (user / 'scoped.py').write_text(
        "_base_ = ['ibnseg::ibn_b_cityscapes.py']\n"
        "model = dict(backbone=dict(init_cfg=None))\n")
    (user / 'plugin.py').write_text(readme_plugin_snippet())
    (user / 'use.py').write_text(USER_SCRIPT)
    out = run([python, 'use.py'], cwd=user)
    assert f'IBNSEG {os.path.join(site, "ibnseg")}' in out
    assert 'MODEL IBNResNet b (1, 19, 8, 8)' in out
    assert 'MODEL IBNResNet a (1, 19, 8, 8)' in out

    # tools/setup_env.sh into the same venv: quiet, and the editable
    # install of the checkout takes the wheel's place, its scope with it
    out = run(['bash', source / 'tools' / 'setup_env.sh'],
              env={'IBNSEG_VENV': str(venv)})
    assert '[setup_env] ready' in out
    assert 'Editable installation' not in out, out
    assert 'Warning' not in out, out
    assert os.path.isfile(scope_pth)
    (user / 'scoped_a.py').write_text(
        "_base_ = ['ibnseg::ibn_a_cityscapes.py']\n")
    out = run([python, '-c', 'from mmengine.config import Config; '
               "cfg = Config.fromfile('scoped_a.py', "
               'import_custom_modules=False); '
               'print(cfg.model.backbone.ibn); import ibnseg; '
               'print(ibnseg.__file__)'], cwd=user)
    assert out.splitlines()[-2:] == [
        'a', str(source / 'ibnseg' / '__init__.py')]


def test_import_without_mmcv_names_both_distributions():
    # sys.modules[name] = None: Python's way to say a module is not there
    proc = subprocess.run(
        [sys.executable, '-c', "import sys; sys.modules['mmcv'] = None; "
         'import ibnseg'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith('ImportError: ibnseg needs mmcv 2.x'), last
    assert 'mmcv-lite==2.1.0' in last and '`mmcv==2.1.0`' in last
