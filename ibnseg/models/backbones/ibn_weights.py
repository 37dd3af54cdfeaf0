"""Loading ResNet/DenseNet/IBN-Net weights strictly, saying which model a
file that does not fit was made for: the ``StrictPretrained`` initializer
and :func:`load_checkpoint_strictly`."""
import os.path as osp
import re
from collections import OrderedDict

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

# Where the weight files named in ibnseg's configs come from: IBN-Net's
# release and torchvision.
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
_PUBLISHED = {name.split('-')[0] for name in WEIGHT_URLS if '_ibn_' in name}
_FILE_PREFIX = {'ResNet': 'resnet', 'ResNeXt 32x4d': 'resnext',
                'SE-ResNet': 'se_resnet', 'DenseNet': 'densenet'}
_BLOCK_KEY = re.compile(r'^layer(\d)\.(\d+)\.')
_DENSE_KEY = re.compile(r'^features\.denseblock(\d)\.denselayer(\d+)\.')
_MAX_LISTED = 8
# The classifier heads of torchvision's ResNet and DenseNet.
_HEAD_PREFIXES = ('fc.', 'classifier.')
# torchvision's DenseNet files name a dense layer's modules 'norm.1',
# 'conv.2', ...: a revise_keys entry that IBNDenseNet appends to its own.
DENSENET_LEGACY_KEYS = (r'(\.denselayer\d+\.(?:norm|relu|conv))\.([12])\.',
                        r'\1\2.')


def _known_layout(family, depth, variant):
    """': the layout of ...' for a published IBN-Net or torchvision model."""
    prefix = _FILE_PREFIX.get(family)
    if f'{prefix}{depth}_ibn_{variant}' in _PUBLISHED:
        return f': the layout of the published {prefix}{depth}_ibn_{variant}'
    if variant == 'plain' and family in ('ResNet', 'DenseNet'):
        return f': the layout of torchvision {prefix}{depth}'
    return ''


def _stages_with(keys, pattern):
    """The stage numbers of the keys ``layer<stage>.<block>.<pattern>``."""
    pattern = re.compile(r'^layer(\d)\.\d+\.' + pattern)
    return {int(m.group(1)) for m in map(pattern.match, keys) if m}


def describe_state_dict(state_dict):
    """One line saying which ResNet/DenseNet/IBN-Net layout ``state_dict``
    holds: depth from the blocks per stage, bottleneck from ``conv3``,
    ResNeXt from ``layer1.0.conv2``, SE from ``.se.``, the IBN variant from
    where ``IN`` keys are and the stem norm (IN: no running statistics)."""
    keys = list(state_dict)
    if not any(_BLOCK_KEY.match(k) or _DENSE_KEY.match(k)
               for k in keys) and any(
                   k.startswith(('backbone.layer', 'backbone.features.'))
                   for k in keys):
        return ('a whole segmentor checkpoint (the backbone keys start with '
                '"backbone."); load it with prefix="backbone." in the '
                'init_cfg')
    if any(_DENSE_KEY.match(k) for k in keys):
        return _describe_densenet(state_dict)
    blocks = {}
    for match in filter(None, map(_BLOCK_KEY.match, keys)):
        blocks.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    if not blocks:
        return f'no ResNet layout ({len(keys)} keys, none like "layerX.Y.")'
    bottleneck = 'layer1.0.conv3.weight' in state_dict
    counts = [len(blocks.get(i, ())) for i in range(1, 5)]
    depth = sum(counts) * (3 if bottleneck else 2) + 2
    family = 'ResNet'
    conv2 = state_dict.get('layer1.0.conv2.weight')
    # grouped convs have fewer inputs than outputs (IBN-c's conv2 more)
    if bottleneck and conv2 is not None and conv2.shape[0] > conv2.shape[1]:
        groups = conv2.shape[0] // conv2.shape[1]
        family = f'ResNeXt {groups}x{conv2.shape[0] // groups}d'
    if any('.se.' in k for k in keys):
        family = 'SE-' + family
    in_block = _stages_with(keys, r'bn1\.IN\.')
    in_block2 = _stages_with(keys, r'bn2\.IN\.')
    post_add = _stages_with(keys, r'IN\.weight')
    if 'stem.0.weight' in state_dict:
        stem = 'deep stem (mmseg V1c/V1d)'
    elif 'bn1.IN.weight' in state_dict:
        stem = 'IBN stem'
    elif 'bn1.weight' in state_dict and 'bn1.running_mean' not in state_dict:
        stem = 'IN stem'
    else:
        stem = '7x7 stem'
    parts = []
    if in_block:
        inst = state_dict[next(
            k for k in keys if re.match(r'^layer\d\.\d+\.bn1\.IN\.w', k))]
        bn2 = f' and bn2 of {_stages(in_block2)}' if in_block2 else ''
        parts.append(f'IBN in bn1 of {_stages(in_block)}{bn2} ({inst.numel()} '
                     f'IN channels in layer{min(in_block)})')
    if post_add:
        parts.append(f'IN after the addition in {_stages(post_add)}')
    variant = None
    if in_block == {1, 2, 3} and not post_add and not in_block2 \
            and stem == '7x7 stem':
        variant = 'a'
    elif post_add == {1, 2} and not in_block and stem == 'IN stem':
        variant = 'b'
    elif not in_block and not post_add and stem == '7x7 stem':
        variant = 'plain'
    return (f'{family}-{depth} ({"x".join(map(str, counts))} blocks), {stem}, '
            + ('; '.join(parts) if parts else 'no IN')
            + _known_layout(family, depth, variant))


def _stages(indices):
    return 'stages ' + ','.join(str(i) for i in sorted(indices))


def _describe_densenet(state_dict):
    """One line for a torchvision-named DenseNet (IBN-a) state_dict: depth
    from the layers per block, growth rate from ``conv2``, where ``norm1``
    is an IBN layer."""
    layers = {}
    ibn = {}
    for key in state_dict:
        match = _DENSE_KEY.match(key)
        if match:
            block, layer = int(match.group(1)), int(match.group(2))
            layers.setdefault(block, set()).add(layer)
            if key[match.end():].startswith('norm1.IN.weight'):
                ibn.setdefault(block, []).append(layer)
    counts = [len(layers.get(i, ())) for i in range(1, 5)]
    depth = 2 * sum(counts) + 5
    conv2 = state_dict.get('features.denseblock1.denselayer1.conv2.weight')
    growth = f', growth {conv2.shape[0]}' if conv2 is not None else ''
    text = f'DenseNet-{depth} ({"x".join(map(str, counts))} layers{growth}), '
    paper = {i: sorted(n for n in layers[i] if n % 3 == 1)
             for i in (1, 2, 3) if i in layers}
    if ibn:
        first = min(ibn)
        inst = state_dict[f'features.denseblock{first}.denselayer'
                          f'{min(ibn[first])}.norm1.IN.weight']
        every_third = {i: sorted(v) for i, v in ibn.items()} == paper
        text += ('IBN in norm1 of '
                 + ('every third layer' if every_third else 'some layers')
                 + f' of blocks {",".join(map(str, sorted(ibn)))} '
                 f'({inst.numel()} IN channels in denseblock{first}.'
                 f'denselayer{min(ibn[first])})')
        variant = 'a' if every_third else None
    else:
        text += 'no IN'
        variant = 'plain'
    return text + _known_layout('DenseNet', depth, variant)


def _listing(names):
    shown = ', '.join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f', ... ({more} more)' if more > 0 else '')


def _check_local_file(filename):
    """A missing local weight file: say where to get it and where it goes."""
    filename = str(filename)
    if '://' in filename or osp.exists(filename):
        return
    url = WEIGHT_URLS.get(osp.basename(filename))
    where = (f'download it from {url} and put it at {osp.abspath(filename)}'
             if url else 'check the path in the config\'s init_cfg')
    raise FileNotFoundError(f'weight file {filename} not found: {where} '
                            '(or set the backbone\'s init_cfg to the URL)')


# mmengine's load_checkpoint default: drop the DataParallel wrapper's prefix.
_REVISE_KEYS = ((r'^module\.', ''), )


def read_state_dict(filename, map_location='cpu', prefix=None,
                    revise_keys=_REVISE_KEYS):
    """The tensors of a weight file (path or URL) as a flat state_dict:
    read by mmengine's ``_load_checkpoint`` (through ibnseg's safe loaders),
    unwrapped from ``{'state_dict': ...}``, keys renamed by ``revise_keys``,
    then only those under ``prefix``, without it. (mmengine's
    ``_load_checkpoint_with_prefix`` selects before renaming, and fails
    with a bare assertion.)"""
    _check_local_file(filename)
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{filename}: expected a dict of tensors, got '
                         f'{type(checkpoint).__name__}')
    result = OrderedDict()
    for key, value in checkpoint.get('state_dict', checkpoint).items():
        for pattern, replacement in revise_keys:
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
    """Load a weight file into ``model``, of which only a classifier head
    may be left over; else, before copying anything, raise ``ValueError``
    naming the missing, unexpected and wrongly shaped keys and the layouts
    of the file and the model. Arguments as :func:`read_state_dict`."""
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
            f'  the file looks like: {describe_state_dict(state_dict)}',
            f'  the model is:        {describe_state_dict(own)}',
        ]
        for title, names in (('missing keys', missing),
                             ('unexpected keys', unexpected),
                             ('shape mismatches (file vs model)', mismatched)):
            if names:
                lines.append(f'  {len(names)} {title}: {_listing(names)}')
        raise ValueError('\n'.join(lines))
    load_state_dict(model, {k: v for k, v in state_dict.items() if k in own},
                    strict=True, logger='current')


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit(PretrainedInit):
    """mmengine's ``Pretrained``, loading with
    :func:`load_checkpoint_strictly`. IBN backbones turn their init_cfg's
    ``Pretrained`` into it; any module's init_cfg may name it.

    It marks the sub-modules as initialised: mmengine initialises them after
    the module's own init_cfg, and their ``init_weights`` (mmcv plugins, DCN
    offsets) would overwrite the loaded values.

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
