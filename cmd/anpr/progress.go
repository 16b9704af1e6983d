package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal, where a progress bar helps.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progressBar draws a one-line bar on a terminal, at most ten times a second.
type progressBar struct {
	w     io.Writer
	label string
	total int64 // -1 when unknown
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, label string, total int64) *progressBar {
	return &progressBar{w: w, label: label, total: total, start: time.Now()}
}

func (b *progressBar) set(n int64) {
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	b.draw(n)
}

func (b *progressBar) draw(n int64) {
	const width = 30
	if b.total <= 0 {
		fmt.Fprintf(b.w, "\r%s %d MB", b.label, n>>20)
		return
	}
	frac := float64(n) / float64(b.total)
	if frac > 1 {
		frac = 1
	}
	full := int(frac * width)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%% %s", b.label, strings.Repeat("█", full), strings.Repeat("·", width-full),
		frac*100, time.Since(b.start).Round(time.Second))
}

func (b *progressBar) done(n int64) {
	b.draw(n)
	fmt.Fprintln(b.w)
}
