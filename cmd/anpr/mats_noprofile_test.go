//go:build !matprofile

package main

import (
	"sync"
	"testing"
)

var warnOnce sync.Once

// checkMats needs -tags matprofile to count open Mats; without it the leak
// check is skipped (the tests still run).
func checkMats(t testing.TB) {
	warnOnce.Do(func() { t.Log("Mat leak checks off: run with -tags matprofile") })
}
