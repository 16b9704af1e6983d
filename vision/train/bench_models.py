"""Speed of the committed models in OpenCV 4.6 DNN on one thread (cv2.setNumThreads(1)):
median of 50 forward passes (reader N=1) / 30 (detector), after warm-up.

  /usr/bin/python3 vision/train/bench_models.py [MODEL_DIR]
"""
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plates  # noqa: E402


def med(net, x, outs, n):
    ts = []
    for i in range(n + 5):
        t0 = time.perf_counter()
        net.setInput(x)
        net.forward(outs)
        ts.append(time.perf_counter() - t0)
    return 1000 * float(np.median(ts[5:]))


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else plates.MODELS
    cv2.setNumThreads(1)
    r = cv2.dnn.readNetFromONNX(os.path.join(d, 'plate-reader.onnx'))
    det = cv2.dnn.readNetFromONNX(os.path.join(d, 'plate-detector.onnx'))
    xr = np.random.rand(1, 1, plates.REC_H, plates.REC_W).astype(np.float32)
    xd = np.random.rand(1, 3, plates.DET_H, plates.DET_W).astype(np.float32)
    print('reader   %s: %.2f ms/plate (median, 1 thread), %d bytes' % (
        'plate-reader.onnx', med(r, xr, ['logits'], 50), os.path.getsize(os.path.join(d, 'plate-reader.onnx'))))
    print('detector %s: %.2f ms/frame (median, 1 thread, net only), %d bytes' % (
        'plate-detector.onnx', med(det, xd, ['heatmap', 'box'], 30), os.path.getsize(os.path.join(d, 'plate-detector.onnx'))))


if __name__ == '__main__':
    main()
