"""The ``StrictPretrained`` initializer: ResNet/DenseNet/IBN-Net weights
loaded strictly, naming the model a file that does not fit was made for."""
import os.path as osp
import re
from collections import OrderedDict

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

# The weight files named in ibnseg's configs: IBN-Net's release, torchvision.
_IBN_RELEASE = 'https://github.com/XingangPan/IBN-Net/releases/download/v1.0/'
WEIGHT_URLS = {
    name: _IBN_RELEASE + name
    for name in ('resnet18_ibn_a-2f571257.pth', 'resnet34_ibn_a-94bc1577.pth',
                 'resnet50_ibn_a-d9d0bb7b.pth', 'resnet101_ibn_a-59ea0ac6.pth',
                 'resnet18_ibn_b-bc2f3c11.pth', 'resnet34_ibn_b-04134c37.pth',
                 'resnet50_ibn_b-9ca61e85.pth', 'resnet101_ibn_b-c55f6dba.pth',
                 'resnext101_ibn_a-6ace051d.pth',
                 'se_resnet101_ibn_a-fabed4e2.pth',
                 'densenet121_ibn_a-e4af5cc1.pth',
                 'densenet169_ibn_a-9f32c161.pth')
}
WEIGHT_URLS.update({
    name: 'https://download.pytorch.org/models/' + name
    for name in ('resnet18-f37072fd.pth', 'resnet34-b627a593.pth',
                 'resnet50-0676ba61.pth', 'resnet101-63fe2227.pth',
                 'resnet152-394f9c45.pth', 'densenet121-a639ec97.pth',
                 'densenet161-8d451a50.pth', 'densenet169-b2777c0a.pth',
                 'densenet201-c1103571.pth')
})
_PUBLISHED = {name.split('-')[0]: name for name in WEIGHT_URLS}
# 'layer<stage>.<block>.' (ResNet), 'features.denseblock<stage>.denselayer
# <block>.' (DenseNet)
_BLOCK_KEY = re.compile(
    r'^(?:layer|features\.denseblock)(\d)\.(?:denselayer)?(\d+)\.')
# The InstanceNorms of the published variants, as _layout words them.
_VARIANT_IN = {
    '': '',
    'layer1.*.bn1.IN, layer2.*.bn1.IN, layer3.*.bn1.IN': '_ibn_a',
    ', '.join(f'features.denseblock{i}.denselayer*.norm1.IN'
              for i in (1, 2, 3)): '_ibn_a',
    'bn1, layer1.*.IN, layer2.*.IN': '_ibn_b',
}
_MAX_LISTED = 8
# The classifier heads of torchvision's ResNet and DenseNet.
_HEAD_PREFIXES = ('fc.', 'classifier.')
# torchvision's older DenseNet files name a dense layer's modules 'norm.1',
# 'conv.2', ...: renamed after revise_keys (no other model has such keys).
_DENSENET_LEGACY_KEYS = (r'(\.denselayer\d+\.(?:norm|relu|conv))\.([12])\.',
                         r'\1\2.')


def _layout(state_dict):
    """The blocks per stage and the InstanceNorms (block indices collapsed;
    a stem norm without running statistics is one) of ``state_dict``, and
    the published or torchvision file of that layout."""
    blocks, norms = {}, set()
    for key in state_dict:
        match = _BLOCK_KEY.match(key)
        if match:
            blocks.setdefault(match[1], set()).add(match[2])
        if '.IN.' in key:
            key = re.sub(r'\.(denselayer)?\d+\.', r'.\1*.', key)
            norms.add(key.split('.IN.')[0] + '.IN')
    if 'bn1.weight' in state_dict and 'bn1.running_mean' not in state_dict:
        norms.add('bn1')
    if not blocks and any(k.startswith('backbone.') for k in state_dict):
        return ('a whole segmentor checkpoint (keys "backbone.*"): load it '
                'with prefix="backbone." in the init_cfg')
    counts = [len(blocks[stage]) for stage in sorted(blocks)]
    places = ', '.join(sorted(norms))
    text = (f'{"x".join(map(str, counts)) or "no"} blocks, '
            + (f'IN at {places}' if places else 'no IN'))
    # '?' marks a part no published file has
    conv2 = state_dict.get('layer1.0.conv2.weight')
    if 'features.conv0.weight' in state_dict:
        name = f'densenet{2 * sum(counts) + 5}'
    elif 'conv1.weight' in state_dict and conv2 is not None:
        # conv2's outputs per input: 32 in ResNeXt 32x4d, 1/2 in IBN-c
        name = ('se_' if any('.se.' in k for k in state_dict) else '') + {
            1: 'resnet', 32: 'resnext'}.get(conv2.shape[0] // conv2.shape[1],
                                            '?')
        bottleneck = 'layer1.0.conv3.weight' in state_dict
        name += str(sum(counts) * (3 if bottleneck else 2) + 2)
    else:
        return text
    name = _PUBLISHED.get(name + _VARIANT_IN.get(places, '?'))
    return text + (f' (the layout of {name})' if name else '')


# mmengine's load_checkpoint default: drop the DataParallel wrapper's prefix.
_REVISE_KEYS = ((r'^module\.', ''), )


def read_state_dict(filename, map_location='cpu', prefix=None,
                    revise_keys=_REVISE_KEYS):
    """The tensors of a weight file (path or URL) as a flat state_dict,
    unwrapped from ``{'state_dict': ...}``, keys renamed by ``revise_keys``
    (then torchvision's older DenseNet names), then only those under
    ``prefix``, without it (mmengine's
    ``_load_checkpoint_with_prefix`` selects before renaming)."""
    if '://' not in str(filename) and not osp.exists(filename):
        # a missing local file: say where to get it and where it goes
        url = WEIGHT_URLS.get(osp.basename(filename))
        where = (f'download it from {url} and put it at '
                 f'{osp.abspath(filename)}' if url else
                 'check the path in the config\'s init_cfg')
        raise FileNotFoundError(f'weight file {filename} not found: {where} '
                                '(or set the backbone\'s init_cfg to the URL)')
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{filename}: expected a dict of tensors, got '
                         f'{type(checkpoint).__name__}')
    result = OrderedDict()
    for key, value in checkpoint.get('state_dict', checkpoint).items():
        for pattern, replacement in (*revise_keys, _DENSENET_LEGACY_KEYS):
            key = re.sub(pattern, replacement, key)
        if prefix:
            if not key.startswith(prefix):
                continue
            key = key[len(prefix):]
        if not isinstance(value, torch.Tensor):
            raise ValueError(f'{filename}: entry {key!r} is a '
                             f'{type(value).__name__}, expected a tensor')
        result[key] = value
    if not result:
        raise ValueError(f'{filename}: no weights found'
                         + (f' under prefix {prefix!r}' if prefix else ''))
    return result


def load_checkpoint_strictly(model, filename, map_location='cpu',
                             prefix=None, revise_keys=_REVISE_KEYS):
    """Load a weight file into ``model`` (only a classifier head may be
    left over), or, before copying anything, raise ``ValueError`` naming the
    keys that do not fit and the layouts of the file and the model."""
    state_dict = read_state_dict(filename, map_location, prefix, revise_keys)
    own = model.state_dict()
    missing = [
        k for k in own
        if k not in state_dict and not k.endswith('num_batches_tracked')
    ]
    unexpected = [
        k for k in state_dict
        if k not in own and not k.startswith(_HEAD_PREFIXES)
    ]
    mismatched = [
        f'{k} {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}'
        for k in state_dict if k in own and state_dict[k].shape != own[k].shape
    ]
    if missing or unexpected or mismatched:
        lines = [
            f'{filename} does not fit {type(model).__name__}.',
            f'  the file looks like: {_layout(state_dict)}',
            f'  the model is:        {_layout(own)}',
        ]
        for title, names in (('missing keys', missing),
                             ('unexpected keys', unexpected),
                             ('shape mismatches (file vs model)', mismatched)):
            if names:
                more = len(names) - _MAX_LISTED
                lines.append(f'  {len(names)} {title}: '
                             + ', '.join(names[:_MAX_LISTED])
                             + (f', ... ({more} more)' if more > 0 else ''))
        raise ValueError('\n'.join(lines))
    load_state_dict(model, {k: v for k, v in state_dict.items() if k in own},
                    strict=True, logger='current')


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit(PretrainedInit):
    """mmengine's ``Pretrained``, loading with
    :func:`load_checkpoint_strictly`; IBN backbones turn their init_cfg's
    ``Pretrained`` into it. It marks the sub-modules as initialised, whose
    ``init_weights`` mmengine would run later over the loaded values.

    Args:
        checkpoint (str): Path or URL of the weight file.
        prefix (str, optional): Load only the keys under this prefix,
            without it (``'backbone.'`` of a segmentor). Default: None.
        map_location (str): As in ``torch.load``. Default: 'cpu'.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            regular expressions applied to every key first, as in mmengine's
            ``load_checkpoint``. Default: drop a leading ``module.``.
    """

    def __init__(self, checkpoint, prefix=None, map_location='cpu',
                 revise_keys=_REVISE_KEYS):
        super().__init__(checkpoint, prefix, map_location)
        self.revise_keys = revise_keys

    def __call__(self, module):
        print_log(f'load model from: {self.checkpoint} (strict)',
                  logger='current')
        load_checkpoint_strictly(module, self.checkpoint, self.map_location,
                                 self.prefix, self.revise_keys)
        for sub_module in module.modules():
            if sub_module is not module and hasattr(sub_module,
                                                    'init_weights'):
                sub_module.is_init = True
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
