//go:build matprofile

package main

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"
)

// checkMats fails t if it leaves more gocv.Mats open than there were when it
// started (other commands' tests share the process). Needs -tags matprofile.
func checkMats(t testing.TB) {
	t.Helper()
	before := gocv.MatProfile.Count()
	t.Cleanup(func() {
		if n := gocv.MatProfile.Count(); n != before {
			var b bytes.Buffer
			gocv.MatProfile.WriteTo(&b, 1)
			t.Errorf("%d gocv.Mat(s) open after the test, %d before:\n%s", n, before, b.String())
		}
	})
}
