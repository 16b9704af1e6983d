#!/bin/sh
# Retrain both models from scratch (or resume: rerun; each trainer continues from runs/*/last.pt)
# and export them to assets/models/. Run from the repository root:
#   sh vision/train/make_models.sh
# Seeds are fixed in the scripts; the step counts below are the recipe of the committed models.
set -e
PY=/usr/bin/python3
$PY vision/train/make_split.py
nice -n 5 $PY vision/train/train_reader.py --steps 1500 --lr 3e-3 --curric 300 --easy-from 750 --export-every 250
nice -n 5 $PY vision/train/train_reader.py --steps 3000 --lr 1.5e-3 --curric 300 --easy-from 750 --export-every 250
nice -n 19 $PY vision/train/train_reader.py --steps 12000 --lr 1.5e-3 --curric 300 --easy-from 750 --threads 1
nice -n 19 $PY vision/train/train_reader.py --steps 18000 --lr 1.5e-3 --curric 300 --easy-from 750 --threads 1 --reset-best
nice -n 19 $PY vision/train/train_reader.py --steps 22000 --lr 3e-3 --curric 300 --easy-from 750 --threads 1 --p-cw 0.8 --reset-best
nice -n 19 $PY vision/train/train_reader.py --steps 28000 --lr 4e-3 --curric 300 --easy-from 750 --threads 1 --p-cw 0.7 --reset-best
nice -n 19 $PY vision/train/train_reader.py --steps 32000 --lr 4e-3 --curric 300 --easy-from 750 --threads 1 --p-cw 0.7 --reset-best
# widen the reader (0.47 M -> 0.80 M parameters) and train on (plate-reader.md: "The wider reader")
$PY vision/train/widen.py --to 24,48,96,128,160
nice -n 19 $PY vision/train/train_reader.py --steps 39000 --lr 6e-3 --curric 300 --easy-from 750 --threads 1 --p-cw 0.7 --reset-best
nice -n 19 $PY vision/train/train_reader.py --steps 48000 --lr 3e-3 --curric 300 --easy-from 750 --threads 1 --p-cw 0.7 --reset-best
# bands beside full marks in the synthesiser from here; the stage is cut short at 53250 and its
# last checkpoint's EMA exported (plate-reader.md: "The eighth session's stage")
nice -n 10 $PY vision/train/train_reader.py --steps 56000 --lr 6e-3 --curric 300 --easy-from 750 --threads 2 --p-cw 0.7 --reset-best --halt-at 53250
$PY vision/train/export.py reader vision/train/runs/reader/last.pt
nice -n 5 $PY vision/train/train_detector.py --steps 3000 --threads 1 --p-mosaic 0.4 --p-rot 0.3 --max-rot 25 --export-every 500
$PY vision/train/export.py detector
$PY vision/train/eval_synth.py
$PY vision/train/eval_gbchars.py
$PY vision/train/eval_crops.py --split heldout
