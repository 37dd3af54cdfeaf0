"""The stand-in for mmcv's compiled ops. CI also runs this file in a venv
with the compiled mmcv, where the other build's test runs."""
import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest
import torch

from ibnseg.utils import mmcv_ext_placeholder as placeholder

PTH_FILE = os.path.join(sysconfig.get_paths()['purelib'],
                        'ibnseg-mmcv-ext-placeholder.pth')


def _mmcv_ext():
    import mmcv._ext
    return mmcv._ext


COMPILED = not placeholder.is_placeholder(_mmcv_ext())


def test_placeholder_ops_raise_an_error_naming_op_and_the_compiled_build():
    finder = placeholder._PlaceholderFinder()
    assert finder.find_spec('mmcv.ops') is None
    assert finder.find_spec('mmcv._ext_other') is None
    spec = finder.find_spec('mmcv._ext')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert placeholder.is_placeholder(module)
    op = module.sigmoid_focal_loss_forward  # load_ext's hasattr check passes
    assert op.__name__ == 'sigmoid_focal_loss_forward'
    with pytest.raises(placeholder.MMCVOpsUnavailableError) as error:
        op(torch.zeros(1))
    message = str(error.value)
    assert "'sigmoid_focal_loss_forward'" in message
    assert 'IBNSEG_MMCV=full' in message and 'IBNSEG_WHEEL_DIR' in message
    # Python's protocols (copy, pickle, inspect) must see plain attributes
    with pytest.raises(AttributeError):
        module.__wrapped__  # noqa: B018
    placeholder.install()  # again: still one finder
    assert sum(getattr(f, 'IBNSEG_MMCV_EXT_PLACEHOLDER', False)
               for f in sys.meta_path) == 1


def test_never_shadows_a_real_mmcv_ext(tmp_path):
    """A real ``mmcv._ext`` (a fake mmcv first on sys.path) wins."""
    fake = tmp_path / 'mmcv'
    fake.mkdir()
    (fake / '__init__.py').write_text('')
    (fake / '_ext.py').write_text('REAL = True\n')
    # loaded by path: importing ibnseg would import mmseg, which rejects
    # the fake mmcv
    script = textwrap.dedent('''
        import importlib.util as u, sys
        spec = u.spec_from_file_location('placeholder', sys.argv[1])
        p = u.module_from_spec(spec)
        spec.loader.exec_module(p)
        p.install()
        import mmcv._ext
        assert mmcv._ext.REAL and not p.is_placeholder(mmcv._ext), mmcv._ext
    ''')
    proc = subprocess.run(
        [sys.executable, '-c', script, placeholder.__file__],
        env=dict(os.environ, PYTHONPATH=str(tmp_path)), capture_output=True,
        text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_pth_line_activates_placeholder_at_start_up_under_its_own_name(
        tmp_path):
    """What setup_env.sh writes into site-packages, run by ``site``."""
    site_dir = tmp_path / 'site'
    site_dir.mkdir()
    (site_dir / 'ibnseg-mmcv-ext-placeholder.pth').write_text(
        placeholder.pth_line(placeholder.__file__))
    script = textwrap.dedent('''
        import site, sys
        site.addsitedir(sys.argv[1])
        name = 'ibnseg.utils.mmcv_ext_placeholder'
        assert name in sys.modules and 'ibnseg' not in sys.modules
        assert sum(getattr(f, 'IBNSEG_MMCV_EXT_PLACEHOLDER', False)
                   for f in sys.meta_path) == 1
        site.main()  # now the venv's packages (-S left them out)
        import ibnseg.utils.mmcv_ext_placeholder as later
        assert later is sys.modules[name]
    ''')
    # -S: nothing else runs at start-up (not the venv's own .pth files)
    proc = subprocess.run([sys.executable, '-S', '-c', script, str(site_dir)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # a moved checkout: the line does nothing instead of failing start-up
    line = placeholder.pth_line(str(tmp_path / 'gone.py'))
    namespace = {}
    exec(line, namespace)  # noqa: S102 - the same as site does
    assert namespace['m'] is False


@pytest.mark.skipif(COMPILED, reason='needs the default mmcv-lite set-up; '
                    'this environment has the compiled mmcv')
def test_default_setup_mmseg_imports_and_a_compiled_op_says_so():
    import mmcv.ops
    import mmseg.models  # noqa: F401  (imports mmcv.ops at load time)
    assert os.path.isfile(PTH_FILE), 'setup_env.sh writes the .pth file'
    with pytest.raises(placeholder.MMCVOpsUnavailableError,
                       match="'sigmoid_focal_loss_forward'"):
        mmcv.ops.sigmoid_focal_loss(torch.randn(2, 3), torch.tensor([0, 1]))


@pytest.mark.skipif(not COMPILED, reason='needs the compiled mmcv '
                    '(IBNSEG_MMCV=full or IBNSEG_WHEEL_DIR); this environment '
                    'has mmcv-lite')
def test_compiled_setup_real_op_works_and_no_placeholder_is_active():
    import mmcv.ops
    ext = _mmcv_ext()
    assert ext.__file__.endswith('.so')
    assert not os.path.exists(PTH_FILE)
    # ibnseg's finder, installed before mmcv._ext is imported, must not win
    proc = subprocess.run(
        [sys.executable, '-c', 'import ibnseg, mmcv._ext; '
         'print(mmcv._ext.__file__)'], capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == ext.__file__
    # NMS keeps the better of two overlapping boxes and the separate one
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = mmcv.ops.nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
