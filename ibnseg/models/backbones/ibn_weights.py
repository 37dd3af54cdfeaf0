"""Loading (published) ResNet/DenseNet/IBN-Net weights strictly, and saying
which model a weight file was made for when it does not fit: the
``StrictPretrained`` weight initializer (mmengine's WEIGHT_INITIALIZERS) and
:func:`load_checkpoint_strictly`."""
import os.path as osp
import re
from collections import OrderedDict

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

# Published IBN-Net files (github.com/XingangPan/IBN-Net releases v1.0) and
# torchvision ResNets, keyed by what describe_state_dict finds in them.
_PUBLISHED = {
    ('ResNet', 18, 'a'): 'resnet18_ibn_a',
    ('ResNet', 34, 'a'): 'resnet34_ibn_a',
    ('ResNet', 50, 'a'): 'resnet50_ibn_a',
    ('ResNet', 101, 'a'): 'resnet101_ibn_a',
    ('ResNet', 18, 'b'): 'resnet18_ibn_b',
    ('ResNet', 34, 'b'): 'resnet34_ibn_b',
    ('ResNet', 50, 'b'): 'resnet50_ibn_b',
    ('ResNet', 101, 'b'): 'resnet101_ibn_b',
    ('ResNeXt 32x4d', 101, 'a'): 'resnext101_ibn_a',
    ('SE-ResNet', 101, 'a'): 'se_resnet101_ibn_a',
    ('DenseNet', 121, 'a'): 'densenet121_ibn_a',
    ('DenseNet', 169, 'a'): 'densenet169_ibn_a',
}
# Where the weight files named in ibnseg's configs come from.
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
_BLOCK_KEY = re.compile(r'^layer(\d)\.(\d+)\.')
_DENSE_KEY = re.compile(r'^features\.denseblock(\d)\.denselayer(\d+)\.')
_MAX_LISTED = 8
# Classifier heads a backbone leaves over: torchvision ResNet's and
# DenseNet's.
_HEAD_PREFIXES = ('fc.', 'classifier.')
# torchvision's DenseNet files (and IBN-Net's first DenseNet-IBN-a code) name
# a dense layer's modules 'norm.1', 'conv.2', ...; current code 'norm1'. A
# (pattern, replacement) for revise_keys: IBNDenseNet appends it to its
# init_cfg's.
DENSENET_LEGACY_KEYS = (r'(\.denselayer\d+\.(?:norm|relu|conv))\.([12])\.',
                        r'\1\2.')


def _stages(indices):
    return 'stages ' + ','.join(str(i) for i in sorted(indices))


def describe_state_dict(state_dict):
    """One line saying which ResNet/DenseNet/IBN-Net layout ``state_dict``
    holds (DenseNets: see :func:`_describe_densenet`).

    Depth from the number of blocks per stage, bottleneck from ``conv3``,
    ResNeXt groups/width from ``layer1.0.conv2``, SE from ``.se.``, the IBN
    variant from ``bnK.IN.*`` (in-block IBN), ``layerX.Y.IN.*`` (IN after
    the addition) and the stem norm (IN when it has no running stats).
    """
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
    for key in keys:
        match = _BLOCK_KEY.match(key)
        if match:
            blocks.setdefault(int(match.group(1)), set()).add(
                int(match.group(2)))
    if not blocks:
        return f'no ResNet layout ({len(keys)} keys, none like "layerX.Y.")'
    bottleneck = 'layer1.0.conv3.weight' in state_dict
    counts = [len(blocks.get(i, ())) for i in range(1, 5)]
    depth = sum(counts) * (3 if bottleneck else 2) + 2
    family = 'ResNet'
    conv2 = state_dict.get('layer1.0.conv2.weight')
    if bottleneck and conv2 is not None and conv2.shape[0] != conv2.shape[1]:
        groups = conv2.shape[0] // conv2.shape[1]
        family = f'ResNeXt {groups}x{conv2.shape[0] // groups}d'
    if any('.se.' in k for k in keys):
        family = 'SE-' + family
    in_block = {int(k[5]) for k in keys if re.match(r'^layer\d\.\d+\.bn1\.IN\.', k)}
    in_block2 = {int(k[5]) for k in keys if re.match(r'^layer\d\.\d+\.bn2\.IN\.', k)}
    post_add = {int(k[5]) for k in keys if re.match(r'^layer\d\.\d+\.IN\.weight', k)}
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
        inst = state_dict[next(k for k in keys if re.match(r'^layer\d\.\d+\.bn1\.IN\.weight', k))]
        parts.append(f'IBN in bn1 of {_stages(in_block)}'
                     + (f' and bn2 of {_stages(in_block2)}' if in_block2 else '')
                     + f' ({inst.numel()} IN channels in layer{min(in_block)})')
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
    text = (f'{family}-{depth} ({"x".join(map(str, counts))} blocks), {stem}, '
            + ('; '.join(parts) if parts else 'no IN'))
    published = _PUBLISHED.get((family, depth, variant))
    if published:
        text += f': the layout of the published {published}'
    elif variant == 'plain' and family == 'ResNet':
        text += f': the layout of torchvision resnet{depth}'
    return text


def _describe_densenet(state_dict):
    """One line for a torchvision-named DenseNet (IBN-a) state_dict: depth
    from the layers per block, growth rate from ``conv2``, where ``norm1``
    is an IBN layer (``norm1.IN.*``)."""
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
    published = _PUBLISHED.get(('DenseNet', depth, variant))
    if published:
        text += f': the layout of the published {published}'
    elif variant == 'plain':
        text += f': the layout of torchvision densenet{depth}'
    return text


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
    """The tensors of a weight file (path or URL), as a flat state_dict.

    Read with mmengine's ``_load_checkpoint`` (every scheme goes through
    :mod:`ibnseg.utils.checkpoint`'s safe loaders: tensors only), unwrapped
    from ``{'state_dict': ...}``, keys renamed by ``revise_keys`` as in
    mmengine's ``load_checkpoint``, then with ``prefix`` only the keys under
    it, without it. (mmengine's ``_load_checkpoint_with_prefix`` selects
    before dropping ``module.`` and fails with a bare assertion.)
    """
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
    """Load a weight file into ``model``; only a classifier head (``fc.*``,
    ``classifier.*``) may be left over.

    Checks before copying anything: raises ``ValueError`` naming the
    missing, unexpected and wrongly shaped keys and the layouts of both the
    file and the model when they differ. Arguments as
    :func:`read_state_dict`.
    """
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
    """mmengine's ``Pretrained`` initializer, loading strictly
    (:func:`load_checkpoint_strictly`): a file that does not fit raises,
    naming the keys and what the file and the module look like; only a
    classifier head (``fc.*``, ``classifier.*``) may be left over.

    IBN backbones turn their ``init_cfg``'s ``type='Pretrained'`` into this
    one; any module's ``init_cfg`` may name it, as
    ``dict(type='StrictPretrained', checkpoint=...)``.

    Having set every parameter (strictly), it marks the module's
    sub-modules as initialised: mmengine initialises them after the
    module's own init_cfg (it defers only its own ``Pretrained`` to the
    end), and their ``init_weights`` (mmcv plugins, DCN offsets) would
    overwrite the loaded values.

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
