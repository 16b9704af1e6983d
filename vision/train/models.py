"""The two nets. Conv + BatchNorm + ReLU only (BN folded at export), opset 11, OpenCV 4.6 DNN safe."""
import torch
import torch.nn as nn
import torch.nn.functional as F

import plates


def cbr(cin, cout, k=3, s=1, p=None):
    if p is None:
        p = (k // 2) if isinstance(k, int) else tuple(x // 2 for x in k)
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


NARROW = (24, 48, 72, 96, 120)   # the reader up to step 32000 (width 0.75 of 32..160)
WIDE = (24, 48, 96, 128, 160)     # from step 32000: widened from the 12x48 stage on (widen.py)


class Reader(nn.Module):
    """[N,1,48,192] -> [N,24,37] log-probs. All-conv CRNN: conv stack to 1x24 columns, then
    (1x3) convs over the columns instead of an LSTM."""

    def __init__(self, channels=None):
        super().__init__()
        c = list(channels or NARROW)
        self.body = nn.Sequential(
            cbr(1, c[0]), nn.MaxPool2d(2),                   # 24x96
            cbr(c[0], c[1]), nn.MaxPool2d(2),                # 12x48
            cbr(c[1], c[2]), cbr(c[2], c[2]), nn.MaxPool2d((2, 2)),  # 6x24
            cbr(c[2], c[3]), cbr(c[3], c[3]),
            cbr(c[3], c[4], k=(6, 1), p=(0, 0)),             # 1x24
            cbr(c[4], c[4], k=(1, 3)), cbr(c[4], c[4], k=(1, 5)), cbr(c[4], c[4], k=(1, 3)),
        )
        self.head = nn.Conv2d(c[4], plates.NCLASS, 1)

    def forward(self, x):
        x = self.head(self.body(x))
        if x.dtype != torch.float32:     # trained under bfloat16 autocast: the log-softmax and CTC in float32
            x = x.float()
        x = F.log_softmax(x, dim=1)                            # N,37,1,24
        x = x.permute(0, 2, 3, 1)                              # N,1,24,37 (4-D permute: OpenCV-safe)
        return x.reshape(-1, x.shape[2], plates.NCLASS) if torch.onnx.is_in_onnx_export() is False \
            else x.reshape(-1, 24, plates.NCLASS)


class Detector(nn.Module):
    """[1,3,288,512] -> heatmap [1,1,72,128] (sigmoid), box [1,4,72,128]. Tiny CenterNet."""

    def __init__(self):
        super().__init__()
        self.s2 = cbr(3, 16, 3, 2)                                        # 144x256
        self.s4 = cbr(16, 24, 3, 2)                                       # 72x128
        self.s8 = nn.Sequential(cbr(24, 40, 3, 2), cbr(40, 40))          # 36x64
        self.s16 = nn.Sequential(cbr(40, 64, 3, 2), cbr(64, 64), cbr(64, 64))  # 18x32
        self.l16 = cbr(64, 40, 1)
        self.m8 = cbr(40, 32)
        self.l8 = cbr(32, 24, 1)
        self.m4 = cbr(24, 16)
        self.hm = nn.Conv2d(16, 1, 1)
        self.bx = nn.Conv2d(16, 4, 1)
        nn.init.constant_(self.hm.bias, -2.2)

    def forward(self, x):
        a4 = self.s4(self.s2(x))
        a8 = self.s8(a4)
        a16 = self.s16(a8)
        u8 = F.interpolate(self.l16(a16), scale_factor=2.0, mode='nearest') + a8
        u8 = self.m8(u8)
        u4 = F.interpolate(self.l8(u8), scale_factor=2.0, mode='nearest') + a4
        u4 = self.m4(u4)
        return torch.sigmoid(self.hm(u4)), self.bx(u4)


def fuse(model):
    """Fold every Conv+BN pair (eval mode) into the conv."""
    import copy
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    m = copy.deepcopy(model).eval()

    def rec(mod):
        for name, ch in mod.named_children():
            if isinstance(ch, nn.Sequential) and len(ch) >= 2 and isinstance(ch[0], nn.Conv2d) and isinstance(ch[1], nn.BatchNorm2d):
                fused = fuse_conv_bn_eval(ch[0], ch[1])
                setattr(mod, name, nn.Sequential(fused, *list(ch)[2:]))
            else:
                rec(ch)
    rec(m)
    return m
