"""A procedural glyph face drawn to the shapes of Charles Wright 2001, the UK plate typeface.

No CW2001 font file is free to ship, and the condensed sans faces Debian has differ from it exactly
where a reader goes wrong (a footless 1 with a flag, a stadium-shaped 0, an 8 whose top bowl is
narrower, square-cornered B/D/P/R stems, W and M, a closed 4). So the characters are drawn here
from the published layout: each glyph is a set of centre-line strokes of one width (14 mm in a
50 x 79 mm cell; 1 and I narrower) with flat terminals cut along the cell's edges, round joins, and
corner radii, bowl heights, apex depths and stroke width drawn at random per face variant, so the
reader learns the family, not one drawing of it.

  faces(n, seed) -> list of (name, {char: uint8 mask 0..255, tight crop})
"""
import math

import cv2
import numpy as np

H = 79.0          # cell height, mm
W = 50.0          # cell width, mm
PX = 4.0          # render scale, px per mm
MARGIN = 10.0     # canvas margin, mm (strokes run past the cell and are clipped)


def arc(cx, cy, r, a0, a1, n=None):
    """Points on a circle, angles in degrees, y down (90 = bottom, -90 = top)."""
    if n is None:
        n = max(2, int(abs(a1 - a0) / 6) + 1)
    return [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


def rrect(x0, y0, x1, y1, r):
    """Closed rounded rectangle centre line from the right side's middle, going up (anticlockwise
    on screen): top-right, top, top-left, left, bottom-left, bottom, bottom-right, back up."""
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    ym = (y0 + y1) / 2
    p = [(x1, ym)]
    p += arc(x1 - r, y0 + r, r, 0, -90)
    p += arc(x0 + r, y0 + r, r, -90, -180)
    p += arc(x0 + r, y1 - r, r, 180, 90)
    p += arc(x1 - r, y1 - r, r, 90, 0)
    p += [(x1, ym)]
    return p


def portion(path, f0, f1):
    """The part of a polyline between arc-length fractions f0 < f1."""
    pts = np.array(path, np.float64)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0], np.cumsum(seg)])
    L = cum[-1]

    def at(f):
        d = f * L
        i = min(len(seg) - 1, int(np.searchsorted(cum, d, side='right') - 1))
        t = 0 if seg[i] == 0 else (d - cum[i]) / seg[i]
        return tuple(pts[i] + t * (pts[i + 1] - pts[i]))
    inner = [tuple(p) for p, c in zip(pts, cum) if f0 * L < c < f1 * L]
    return [at(f0)] + inner + [at(f1)]


def bowl(x0, y0, y1, xr, r):
    """A D-shaped bowl from a stem at x0: along y0 to the right, round, down, back along y1."""
    r = min(r, (y1 - y0) / 2, xr - x0)
    return [(x0, y0)] + arc(xr - r, y0 + r, r, -90, 0) + arc(xr - r, y1 - r, r, 0, 90) + [(x0, y1)]


class Face:
    """One random variant of the face: stroke width and shape parameters."""

    def __init__(self, rng):
        u = rng.uniform
        self.s = u(11.5, 15.5)                 # stroke width, mm (CW2001: 14)
        self.h = self.s / 2
        self.r = u(9, 18.5)                    # corner radius of round letters
        self.thin = {'W': u(0.6, 0.9), 'M': u(0.75, 1.0)}   # their counters are slits
        self.rng = rng
        self.u = u

    def strokes(self, c):
        """-> (cell width, list of centre-line polylines)."""
        u, h, r = self.u, self.h, self.r
        L, R, T, B = h, W - h, h, H - h
        M = H / 2 + u(-1.5, 1.5)
        E = 6                                  # run past the cell edge; clipped flat there
        st = lambda x: [(x, -E), (x, H + E)]   # full-height stem
        w = W
        if c == '0':
            s = [rrect(L, T, R, B, r + u(-2, 1))]
        elif c == 'O':
            s = [rrect(L, T, R, B, min(18, r + u(0, 5)))]
        elif c == 'Q':
            s = [rrect(L, T, R, B, min(18, r + u(0, 5))), [(W / 2 + u(0, 6), H - 24 + u(-4, 4)), (W + E, H + E)]]
        elif c == '1':
            w = u(24, 30)
            x = w - h
            f = u(11, 17) if self.rng.random() < 0.65 else u(2, 8)   # the flag is often small or lost
            s = [st(x), [(x, T), (x - f, T + f * u(0.6, 1.0))]]
        elif c == 'I':
            w = self.s
            s = [st(w / 2)]
        elif c in 'BDPR':
            s = [st(L)]
            if c == 'D':
                s.append(bowl(L, T, B, R, r + u(0, 4)))
            elif c == 'B':
                y = M - u(0, 3)
                s.append(bowl(L, T, y, R - u(1, 4), min(r, (y - T) / 2)))
                s.append(bowl(L, y, B, R, min(r, (B - y) / 2)))
            else:
                y = M + u(0, 5)
                s.append(bowl(L, T, y, R, min(r, (y - T) / 2)))
                if c == 'R':
                    s.append([(L + u(8, 16), y), (R + u(0, 3), H + E)])
        elif c in 'EF':
            s = [st(L), [(L, T), (W + E, T)], [(L, M), (W + E - u(3, 9), M)]]
            if c == 'E':
                s.append([(L, B), (W + E, B)])
        elif c == 'H':
            s = [st(L), st(R), [(L, M), (R, M)]]
        elif c == 'L':
            s = [st(L), [(L, B), (W + E, B)]]
        elif c == 'T':
            s = [[(-E, T), (W + E, T)], st(W / 2)]
        elif c == 'N':
            s = [st(L), st(R), [(L, -E + u(0, 4)), (R, H + E - u(0, 4))]]
        elif c == 'M':
            d = u(38, 74)                       # depth of the middle vertex
            s = [st(L), st(R), [(L, -E + 2), (W / 2, d), (R, -E + 2)]]
        elif c == 'W':
            a = u(-E, 32)                       # height of the middle apex (-E: full height)
            if self.rng.random() < 0.4:         # upright sides: an M upside down, told apart by its vertex
                s = [st(L), st(R), [(L, H + E - 2), (W / 2, a), (R, H + E - 2)]]
            else:
                x1 = u(10, 15)
                s = [[(L - u(1, 4), -E), (x1, H + E), (W / 2, a), (W - x1, H + E), (R + u(1, 4), -E)]]
        elif c == 'V':
            s = [[(L - u(1, 4), -E), (W / 2, H + E - u(0, 6)), (R + u(1, 4), -E)]]
        elif c == 'A':
            top, a = -E + u(0, 3), u(2, 6)
            y = u(50, 60)
            xl = (L - a) + (W / 2 - (L - a)) * (H + E - y) / (H + E - top)
            s = [[(L - a, H + E), (W / 2, top), (R + a, H + E)], [(xl, y), (W - xl, y)]]
        elif c == 'X':
            a = u(0, 4)
            s = [[(L - a, -E), (R + a, H + E)], [(R + a, -E), (L - a, H + E)]]
        elif c == 'Y':
            y = u(34, 46)
            s = [[(L - u(0, 4), -E), (W / 2, y), (R + u(0, 4), -E)], [(W / 2, y), (W / 2, H + E)]]
        elif c == 'Z':
            s = [[(-E, T), (R, T), (L, B), (W + E, B)]]
        elif c == 'K':
            y = u(46, 58)
            s = [st(L), [(R + u(0, 4), -E), (L, y)], [(L + u(10, 16), M + u(-6, 2)), (R + u(0, 4), H + E)]]
        elif c == 'U':
            rr = min(18, r + u(0, 4))
            s = [[(L, -E)] + arc(L + rr, B - rr, rr, 180, 90) + arc(R - rr, B - rr, rr, 90, 0) + [(R, -E)]]
        elif c == 'J':
            rr = min(18, r + u(0, 4))
            s = [[(R, -E)] + arc(R - rr, B - rr, rr, 0, 90) + arc(L + rr, B - rr, rr, 90, 180) +
                 [(L, B - rr - u(0, 10))]]
        elif c in 'CG':
            ring = rrect(L, T, R, B, r)
            f0 = u(0.08, 0.15)
            if c == 'C':
                s = [portion(ring, f0, 1 - f0 * u(0.85, 1.15))]
            else:
                y = M + u(0, 8)
                s = [portion(ring, f0, 1 - (y - M) / 190 - 0.005), [(W + E, y), (W / 2 + u(-4, 4), y)]]
        elif c == 'S':
            r1 = min(r, 17)
            rm = min(r1, (M - T) - r1 + 2)
            top = arc(R - r1, T + r1, r1, u(-40, -15), -90) + arc(L + r1, T + r1, r1, -90, -180)
            mid = arc(L + rm, M - rm, rm, 180, 90) + arc(R - rm, M + rm, rm, -90, 0)
            bot = arc(R - r1, B - r1, r1, 0, 90) + arc(L + r1, B - r1, r1, 90, 180 - u(15, 40))
            s = [top + mid + bot]
        elif c == '2':
            y = u(T + r, 36)
            s = [arc(L + r, T + r, r, -180 + u(10, 35), -90) + arc(R - r, T + r, r, -90, 0) +
                 [(R, y), (L, B)], [(-E, B), (W + E, B)]]
        elif c == '3':
            r1 = min(r, 17)
            r3 = min(r1, (M - T) - r1 + 2)
            xm = u(16, 26)
            top = arc(L + r1, T + r1, r1, -180 + u(10, 35), -90) + arc(R - r1, T + r1, r1, -90, 0) + \
                arc(R - r3, M - r3, r3, 0, 90) + [(xm, M)]
            bot = [(xm, M)] + arc(R - r3, M + r3, r3, -90, 0) + arc(R - r1, B - r1, r1, 0, 90) + \
                arc(L + r1, B - r1, r1, 90, 180 - u(10, 35))
            s = [top, bot]
        elif c == '5':
            y = u(31, 38)
            rr = min(r, (B - y) / 2)
            s = [[(L, -E), (L, y + h * 0.5)], [(L, T), (W + E, T)],
                 [(L, y)] + arc(R - rr, y + rr, rr, -90, 0) + arc(R - rr, B - rr, rr, 0, 90) +
                 arc(L + rr, B - rr, rr, 90, 180 - u(10, 35))]
        elif c in '69':
            y = u(30, 38)
            rr = min(r, (B - y) / 2)
            s = [rrect(L, y, R, B, rr),
                 [(L, y + rr)] + arc(L + r, T + r, r, 180, 270) + arc(R - r, T + r, r, -90, u(-50, -15))]
            if c == '9':
                s = [[(W - x, H - y) for x, y in p] for p in s]
        elif c == '8':
            y = M - u(-1, 3)
            d = u(0, 3.5)
            s = [rrect(L + d, T, R - d, y, min(r, (y - T) / 2)), rrect(L, y, R, B, min(r, (B - y) / 2))]
        elif c == '4':
            x = u(31, 37)
            y = u(50, 58)
            s = [st(x), [(x, T - u(0, 4)), (L - u(0, 3), y)], [(-E, y), (W + E, y)]]
        elif c == '7':
            s = [[(-E, T), (R, T), (u(13, 21), H + E)]]
        else:
            raise ValueError('no glyph for %r' % c)
        return w, s

    def render(self, c):
        """-> uint8 mask (0..255) of the glyph cell, tight-cropped to its ink."""
        w, strokes = self.strokes(c)
        cw, ch = int(round((w + 2 * MARGIN) * PX)), int(round((H + 2 * MARGIN) * PX))
        img = np.zeros((ch, cw), np.uint8)
        hw = self.h * PX * self.thin.get(c, 1.0)

        def p2(p):
            return np.array([(p[0] + MARGIN) * PX, (p[1] + MARGIN) * PX])
        for line in strokes:
            pts = [p2(p) for p in line]
            for a, b in zip(pts[:-1], pts[1:]):
                d = b - a
                n = np.hypot(*d)
                if n < 1e-6:
                    continue
                nv = np.array([-d[1], d[0]]) / n * hw
                quad = np.array([a + nv, b + nv, b - nv, a - nv])
                cv2.fillConvexPoly(img, np.round(quad * 16).astype(np.int32), 255, cv2.LINE_AA, 4)
            for p in pts[1:-1]:
                cv2.circle(img, tuple(np.round(p * 16).astype(np.int32)), int(round(hw * 16)), 255, -1, cv2.LINE_AA, 4)
            if len(pts) > 2 and np.allclose(pts[0], pts[-1]):
                cv2.circle(img, tuple(np.round(pts[0] * 16).astype(np.int32)), int(round(hw * 16)), 255, -1, cv2.LINE_AA, 4)
        m = int(round(MARGIN * PX))
        cell = img[m:m + int(round(H * PX)), m:m + int(round(w * PX))]
        ys, xs = np.nonzero(cell > 40)
        return cell[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def faces(n, seed=2001, chars='0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'):
    out = []
    for i in range(n):
        f = Face(np.random.default_rng([seed, i]))
        out.append(('cw2001-%d' % i, {c: f.render(c) for c in chars}))
    return out


if __name__ == '__main__':
    # preview: python3 vision/train/cwface.py -> vision/train/runs/cwface.png
    import os
    import plates
    rows = []
    for _, g in faces(6):
        cells = []
        for c in plates.CHARS:
            m = g[c]
            hh = 80
            ww = max(1, int(m.shape[1] * hh / m.shape[0]))
            t = np.zeros((hh + 8, 58), np.uint8)
            t[4:4 + hh, 2:2 + min(ww, 54)] = cv2.resize(m, (ww, hh))[:, :54]
            cells.append(255 - t)
        rows.append(np.concatenate(cells, 1))
    os.makedirs(plates.WORK, exist_ok=True)
    cv2.imwrite(os.path.join(plates.WORK, 'cwface.png'), np.concatenate(rows, 0))
