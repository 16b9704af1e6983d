#!/bin/sh
# Every figure in the model cards, measured on the committed models (run from the repository root;
# needs the Go toolchain for the pipeline eval). Output: vision/train/runs/measure.txt
PY=/usr/bin/python3
mkdir -p vision/train/runs
go build -o /tmp/anpr-measure ./cmd/anpr || exit 1
{
echo "## eval_synth (model, then the product's --region gb)"; $PY vision/train/eval_synth.py --anpr /tmp/anpr-measure
echo "## eval_synth, without the legibility floor"; $PY vision/train/eval_synth.py --unbounded
echo "## eval_gbchars (model, then the product's --region gb)"; $PY vision/train/eval_gbchars.py --anpr /tmp/anpr-measure
echo "## eval_crops heldout"; $PY vision/train/eval_crops.py --split heldout
echo "## eval_detector heldout"; $PY vision/train/eval_detector.py --split heldout --thresholds 0.3,0.4,0.5,0.6
echo "## eval_detector train (threshold choice)"; $PY vision/train/eval_detector.py --split train --thresholds 0.3,0.4,0.5,0.6
echo "## anpr eval heldout"
/tmp/anpr-measure eval --labels ../shared/data/plates/dashcam-ro/labels.csv \
    --region any --split vision/train/heldout.txt --models assets/models --threads 1
echo "## anpr eval heldout, no zoom window"
/tmp/anpr-measure eval --labels ../shared/data/plates/dashcam-ro/labels.csv \
    --region any --split vision/train/heldout.txt --models assets/models --threads 1 --zoom off
echo "## anpr eval heldout, no corner windows (the car's detector)"
/tmp/anpr-measure eval --labels ../shared/data/plates/dashcam-ro/labels.csv \
    --region any --split vision/train/heldout.txt --models assets/models --threads 1 --far off
echo "## anpr eval heldout, no jitter vote"
/tmp/anpr-measure eval --labels ../shared/data/plates/dashcam-ro/labels.csv \
    --region any --split vision/train/heldout.txt --models assets/models --threads 1 --jitter off
echo "## close-ups and turned close-ups of the held-out plates (anpr read)"
$PY vision/train/eval_closeups.py --anpr /tmp/anpr-measure
echo "## the same without the stills' extra looks (--near off --far off --deskew off --jitter off)"
$PY vision/train/eval_closeups.py --anpr /tmp/anpr-measure --near off --far off --deskew off --jitter off
} 2>&1 | grep -v -i fyne | tee vision/train/runs/measure.txt
