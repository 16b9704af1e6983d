"""Split the dash-cam frames by capture time into contiguous blocks: ~70 % train, ~30 % held out.

Writes vision/train/split.csv (file,split) and vision/train/heldout.txt (for `anpr eval --split`).
Deterministic: frames sorted by the `_t_NNNN` in the name, cut into 10 equal blocks; blocks
2, 5 and 8 (0-based) are held out, so held-out time ranges are spread over the drive.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plates  # noqa: E402

HELD_BLOCKS = {2, 5, 8}
NBLOCKS = 10


def main():
    rows = plates.load_labels()
    files = sorted({os.path.basename(r['file']) for r in rows} |
                   set(os.listdir(os.path.join(plates.DASHCAM, 'images'))),
                   key=lambda f: (plates.frame_time(f), f))
    n = len(files)
    split = {}
    for i, f in enumerate(files):
        b = i * NBLOCKS // n
        split['images/' + f] = 'heldout' if b in HELD_BLOCKS else 'train'
    with open(plates.SPLIT_CSV, 'w') as f:
        f.write('file,split\n')
        for k in files:
            f.write('images/%s,%s\n' % (k, split['images/' + k]))
    with open(plates.HELDOUT_LIST, 'w') as f:
        f.write('# held-out dash-cam frames (vision/train/make_split.py); use with anpr eval --split\n')
        for k in files:
            if split['images/' + k] == 'heldout':
                f.write('images/%s\n' % k)
    with open(plates.HELDOUT_LIST.replace('heldout.txt', 'train.txt'), 'w') as f:
        f.write('# training dash-cam frames (vision/train/make_split.py); the detector threshold is chosen on these\n')
        for k in files:
            if split['images/' + k] == 'train':
                f.write('images/%s\n' % k)
    tr = {r['text'] for r in rows if split[r['file']] == 'train' and r['readable']}
    he = {r['text'] for r in rows if split[r['file']] == 'heldout' and r['readable']}
    nb = lambda s: sum(1 for r in rows if split[r['file']] == s)
    print('frames: train %d heldout %d; boxes: train %d heldout %d' % (
        sum(v == 'train' for v in split.values()), sum(v == 'heldout' for v in split.values()),
        nb('train'), nb('heldout')))
    print('distinct readable plates: train %d heldout %d, in both %d: %s' % (
        len(tr), len(he), len(tr & he), sorted(tr & he)))


if __name__ == '__main__':
    main()
