"""Export a checkpoint to ONNX (opset 11, BN folded) and check it in OpenCV 4.6 cv2.dnn.

  python3 vision/train/export.py reader   [CKPT]   -> assets/models/plate-reader.onnx
  python3 vision/train/export.py detector [CKPT]   -> assets/models/plate-detector.onnx
"""
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import plates  # noqa: E402


def export_reader(ckpt, out=None, weights='ema'):
    out = out or os.path.join(plates.MODELS, 'plate-reader.onnx')
    sd = torch.load(ckpt, map_location='cpu')
    m = models.Reader(sd.get('channels'))
    m.load_state_dict(sd[weights] if weights in sd else sd['model'])
    m = models.fuse(m)
    x = torch.rand(1, 1, plates.REC_H, plates.REC_W)
    tmp = out + '.tmp'
    torch.onnx.export(m, x, tmp, opset_version=11, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True)
    net = cv2.dnn.readNetFromONNX(tmp)
    worst = 0.0
    for n in (1, 4):
        xb = torch.rand(n, 1, plates.REC_H, plates.REC_W)
        with torch.no_grad():
            ref = m(xb).numpy()
        net.setInput(xb.numpy())
        got = net.forward()
        got = got.reshape(ref.shape)
        worst = max(worst, float(np.abs(got - ref).max()))
    cv2.setNumThreads(1)
    net.setInput(np.random.rand(1, 1, plates.REC_H, plates.REC_W).astype(np.float32))
    for _ in range(5):
        net.forward()
    t0 = time.time()
    for _ in range(50):
        net.forward()
    ms = (time.time() - t0) / 50 * 1000
    assert worst < 1e-3, 'cv2.dnn differs from torch by %g' % worst
    os.replace(tmp, out)
    print('%s: %d bytes, cv2.dnn max |diff| vs torch %.2e (N=1,4), %.2f ms/plate on 1 thread, T=%d' % (
        os.path.relpath(out, plates.ROOT), os.path.getsize(out), worst, ms, ref.shape[1]))
    return out


def export_detector(ckpt, out=None):
    out = out or os.path.join(plates.MODELS, 'plate-detector.onnx')
    m = models.Detector()
    sd = torch.load(ckpt, map_location='cpu')
    m.load_state_dict(sd['ema'] if 'ema' in sd else sd['model'])
    m = models.fuse(m)
    x = torch.rand(1, 3, plates.DET_H, plates.DET_W)
    tmp = out + '.tmp'
    torch.onnx.export(m, x, tmp, opset_version=11, input_names=['input'], output_names=['heatmap', 'box'],
                      do_constant_folding=True)
    net = cv2.dnn.readNetFromONNX(tmp)
    with torch.no_grad():
        rh, rb = m(x)
    net.setInput(x.numpy())
    gh, gb = net.forward(['heatmap', 'box'])
    worst = max(float(np.abs(gh - rh.numpy()).max()), float(np.abs(gb - rb.numpy()).max()))
    assert gh.shape == (1, 1, 72, 128) and gb.shape == (1, 4, 72, 128), (gh.shape, gb.shape)
    cv2.setNumThreads(1)
    for _ in range(3):
        net.setInput(x.numpy()); net.forward(['heatmap', 'box'])
    t0 = time.time()
    for _ in range(20):
        net.setInput(x.numpy()); net.forward(['heatmap', 'box'])
    ms = (time.time() - t0) / 20 * 1000
    assert worst < 1e-3, 'cv2.dnn differs from torch by %g' % worst
    os.replace(tmp, out)
    print('%s: %d bytes, cv2.dnn max |diff| vs torch %.2e, %.1f ms/frame on 1 thread' % (
        os.path.relpath(out, plates.ROOT), os.path.getsize(out), worst, ms))
    return out


if __name__ == '__main__':
    torch.set_num_threads(1)
    # export.py reader|detector [CKPT [OUT [ema|model]]]
    what = sys.argv[1]
    ck = sys.argv[2] if len(sys.argv) > 2 else os.path.join(plates.WORK, what, 'best.pt')
    out = sys.argv[3] if len(sys.argv) > 3 else None
    if what == 'reader':
        export_reader(ck, out, sys.argv[4] if len(sys.argv) > 4 else 'ema')
    else:
        export_detector(ck, out)
