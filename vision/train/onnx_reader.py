"""Run assets/models/plate-reader.onnx in OpenCV DNN exactly as shipped (one crop per pass)."""
import os

import cv2
import numpy as np

import plates


class OnnxReader:
    def __init__(self, path=None):
        self.net = cv2.dnn.readNetFromONNX(path or os.path.join(plates.MODELS, 'plate-reader.onnx'))

    def read(self, x):
        """x: float32 [48,192] -> text."""
        self.net.setInput(x[None, None].astype(np.float32))
        out = self.net.forward()
        return plates.greedy_decode(out.reshape(out.shape[-2], out.shape[-1]))


def confusions(pairs):
    """Character substitutions between equal-length truth/read pairs -> {(truth, read): n}."""
    c = {}
    for t, r in pairs:
        if len(t) == len(r):
            for a, b in zip(t, r):
                if a != b:
                    c[(a, b)] = c.get((a, b), 0) + 1
    return c


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[len(b)]
