//go:build linux

package main

/*
#cgo pkg-config: x11
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

static int xpixel_err;
static int xpixel_on_error(Display *d, XErrorEvent *e) { xpixel_err = e->error_code; return 0; }

static int xpixel_shift(unsigned long m) { int s = 0; if (!m) return 0; while (!(m & 1)) { m >>= 1; s++; } return s; }

// xpixel reads one pixel of window win as the X server holds it (what the
// display shows); 0 when it cannot.
static int xpixel(Display *d, unsigned long win, int x, int y, unsigned char *rgb) {
	XErrorHandler old = XSetErrorHandler(xpixel_on_error);
	xpixel_err = 0;
	XImage *img = XGetImage(d, (Window)win, x, y, 1, 1, AllPlanes, ZPixmap);
	XSync(d, False);
	XSetErrorHandler(old);
	if (!img || xpixel_err) { if (img) XDestroyImage(img); return 0; }
	unsigned long p = XGetPixel(img, 0, 0);
	rgb[0] = (p & img->red_mask) >> xpixel_shift(img->red_mask);
	rgb[1] = (p & img->green_mask) >> xpixel_shift(img->green_mask);
	rgb[2] = (p & img->blue_mask) >> xpixel_shift(img->blue_mask);
	XDestroyImage(img);
	return 1;
}

static int xwindow_size(Display *d, unsigned long win, int *w, int *h) {
	XWindowAttributes a;
	if (!XGetWindowAttributes(d, (Window)win, &a)) return 0;
	*w = a.width; *h = a.height;
	return 1;
}
*/
import "C"

import (
	"errors"
	"image/color"
	"unsafe"
)

// xDisplay is a connection of its own to the X server, to read back what
// a window shows (anpr bench-ui). Use it from one goroutine.
type xDisplay struct{ d *C.Display }

func openXDisplay() (*xDisplay, error) {
	d := C.XOpenDisplay(nil)
	if d == nil {
		return nil, errors.New("cannot open the X display (DISPLAY)")
	}
	return &xDisplay{d: d}, nil
}

func (x *xDisplay) close() { C.XCloseDisplay(x.d) }

// pixel returns the pixel at (px, py) of window win as the X server
// holds it; ok is false when it cannot be read.
func (x *xDisplay) pixel(win uintptr, px, py int) (color.RGBA, bool) {
	var rgb [3]C.uchar
	if C.xpixel(x.d, C.ulong(win), C.int(px), C.int(py), (*C.uchar)(unsafe.Pointer(&rgb[0]))) == 0 {
		return color.RGBA{}, false
	}
	return color.RGBA{uint8(rgb[0]), uint8(rgb[1]), uint8(rgb[2]), 255}, true
}

// size returns the window's size in pixels.
func (x *xDisplay) size(win uintptr) (int, int, bool) {
	var w, h C.int
	if C.xwindow_size(x.d, C.ulong(win), &w, &h) == 0 {
		return 0, 0, false
	}
	return int(w), int(h), true
}
