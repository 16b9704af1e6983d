//go:build !linux

package main

import (
	"errors"
	"image/color"
)

// xDisplay reads back what a window shows; only on Linux (X11).
type xDisplay struct{}

func openXDisplay() (*xDisplay, error) {
	return nil, errors.New("bench-ui reads the display back through X11: Linux only")
}

func (x *xDisplay) close()                                           {}
func (x *xDisplay) pixel(win uintptr, px, py int) (color.RGBA, bool) { return color.RGBA{}, false }
func (x *xDisplay) size(win uintptr) (int, int, bool)                { return 0, 0, false }
