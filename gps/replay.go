package gps

import (
	"errors"
	"io"
	"time"
)

// Replay decodes every sentence in r (a log file: '#' comment lines are
// skipped) into tr as fast as it can, with no
// system clock (arrival times are zero), and flushes tr at the end. It
// returns the decoder's counts; the error is nil at a clean end of input.
func Replay(r io.Reader, tr *Tracker) (Stats, error) {
	d := NewDecoder(r)
	d.Comments = true
	var rep Report
	for {
		err := d.Next(&rep)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tr.Flush()
			return d.Stats(), err
		}
		tr.Update(&rep, time.Time{})
	}
	tr.Flush()
	return d.Stats(), nil
}

// Epochs replays r and returns every epoch in order, with the Tracker set
// up for old logs: any date from GPS's own epoch on is accepted.
func Epochs(r io.Reader) ([]Fix, Stats, error) {
	var out []Fix
	tr := &Tracker{MinDate: GPSEpoch, OnEpoch: func(f Fix) { out = append(out, f) }}
	st, err := Replay(r, tr)
	return out, st, err
}
