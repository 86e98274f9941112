"""The PyTorch side of the engine's models: torchvision's architectures with the small-input
adaptations the Java models make (same state-dict keys and shapes), and the normalisation that the
Java models put in front as their first layer. Shared by the golden fixture scripts and the
side-by-side benchmarks, so both always measure or check the same networks. Needs only torch and
torchvision.
"""

import torchvision
from torch import nn
import torch


def build(arch, channels, size, classes):
    """torchvision's model with the Java models' small-input adaptations (same keys)."""
    m = getattr(torchvision.models, arch)(num_classes=classes)
    if size >= 224:
        assert channels == 3
        return m
    if arch == "alexnet":
        if size < 64:
            m.features[0] = nn.Conv2d(channels, 64, 5, 1, 2)
        else:
            m.features[0] = nn.Conv2d(channels, 64, 11, 4, 2)
        m.classifier[1] = nn.Linear(256 * 6 * 6, 512)
        m.classifier[4] = nn.Linear(512, 512)
        m.classifier[6] = nn.Linear(512, classes)
    elif arch in ("vgg16", "vgg16_bn"):
        m.features[0] = nn.Conv2d(channels, 64, 3, 1, 1)
        if size < 32:
            assert isinstance(m.features[-1], nn.MaxPool2d)
            m.features = nn.Sequential(*list(m.features)[:-1])
        m.avgpool = nn.AdaptiveAvgPool2d(1)
        m.classifier = nn.Sequential(
            nn.Linear(512, 512), nn.ReLU(True), nn.Dropout(),
            nn.Linear(512, 512), nn.ReLU(True), nn.Dropout(),
            nn.Linear(512, classes))
    elif arch == "resnet18":
        if size <= 64:
            m.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
            m.maxpool = nn.Identity()
        else:
            m.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    return m


class Normalized(nn.Module):
    """(x - mean) / std in front of the model, as the Java models' first layer."""

    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return self.model((x - self.mean) / self.std)
