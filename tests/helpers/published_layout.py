"""An independent model of the published IBN-Net / torchvision ResNet layout.

Written for the tests from the layout facts (key names, where IN sits), with
plain torch modules and no ibnseg import, so that loading its state_dict
into the ibnseg backbones and comparing outputs checks the real thing.
"""
import torch
import torch.nn as nn


class HalfIN(nn.Module):
    """The published IBN norm: split, IN on the first part, BN on the rest,
    concatenate."""

    def __init__(self, channels, ratio=0.5):
        super().__init__()
        self.split = int(channels * ratio)
        self.IN = nn.InstanceNorm2d(self.split, affine=True)
        self.BN = nn.BatchNorm2d(channels - self.split)

    def forward(self, x):
        first, rest = torch.split(x, [self.split, x.shape[1] - self.split], 1)
        return torch.cat([self.IN(first.contiguous()),
                          self.BN(rest.contiguous())], 1)


class SE(nn.Module):

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels, bias=False),
            nn.Sigmoid())

    def forward(self, x):
        n, c = x.shape[:2]
        return x * self.fc(x.view(n, c, -1).mean(-1)).view(n, c, 1, 1)


class Basic(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample, ibn_a, in_after,
                 **unused):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = HalfIN(planes) if ibn_a else nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.IN = nn.InstanceNorm2d(planes, affine=True) if in_after else None
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def branch(self, x):
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.branch(x) + shortcut
        if self.IN is not None:
            out = self.IN(out)
        return self.relu(out)


class Bottle(Basic):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, ibn_a, in_after,
                 groups=1, group_width=None, se=False):
        nn.Module.__init__(self)
        width = planes if groups == 1 else groups * group_width
        out = planes * 4
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = HalfIN(width) if ibn_a else nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(
            width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.se = SE(out) if se else None
        self.IN = nn.InstanceNorm2d(out, affine=True) if in_after else None
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out if self.se is None else self.se(out)


BLOCKS = {
    18: (Basic, (2, 2, 2, 2)),
    34: (Basic, (3, 4, 6, 3)),
    50: (Bottle, (3, 4, 6, 3)),
    101: (Bottle, (3, 4, 23, 3)),
    152: (Bottle, (3, 8, 36, 3)),
}


class PublishedResNet(nn.Module):
    """torchvision-named ResNet with the published IBN placement.

    variant None: torchvision ResNet; 'a': HalfIN in bn1 of every block of
    layer1-3; 'b': IN stem and IN after the addition of the last block of
    layer1-2. ``groups``/``group_width``: ResNeXt (32x4d: 32, 4 * planes /
    64); ``se``: SE-ResNet. Has the ``fc`` head, as published.
    """

    def __init__(self, depth, variant=None, groups=1, base_width=4, se=False):
        super().__init__()
        block, counts = BLOCKS[depth]
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = (nn.InstanceNorm2d(64, affine=True)
                    if variant == 'b' else nn.BatchNorm2d(64))
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, count in enumerate(counts):
            planes = 64 * 2**i
            stride = 1 if i == 0 else 2
            out = planes * block.expansion
            downsample = None
            if stride != 1 or inplanes != out:
                downsample = nn.Sequential(
                    nn.Conv2d(inplanes, out, 1, stride, bias=False),
                    nn.BatchNorm2d(out))
            blocks = []
            for j in range(count):
                blocks.append(
                    block(
                        inplanes if j == 0 else out,
                        planes,
                        stride if j == 0 else 1,
                        downsample if j == 0 else None,
                        ibn_a=variant == 'a' and i < 3,
                        in_after=variant == 'b' and i < 2 and j == count - 1,
                        groups=groups,
                        group_width=planes * base_width // 64,
                        se=se))
            inplanes = out
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
        self.fc = nn.Linear(inplanes, 1000)

    def stages(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
            outs.append(x)
        return outs


def randomize(model, size=64, seed=0):
    """Non-trivial norm parameters: random affine weights, and running
    statistics of a random batch (so activations stay near unit scale and a
    wrongly mapped weight changes the outputs)."""
    gen = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules()
             if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d))]
    with torch.no_grad():
        for module in norms:
            module.weight.uniform_(0.5, 1.5, generator=gen)
            module.bias.uniform_(-0.2, 0.2, generator=gen)
            module.momentum = 1.0
        model.train()
        model.stages(torch.randn(2, 3, size, size, generator=gen))
        for module in norms:
            module.momentum = 0.1
    return model.eval()
