// Package ui is the officer's touchscreen app: a Fyne window for a 1280×800
// landscape tablet, used with gloves, often while driving.
//
// State lives in a ViewModel of data bindings, which are safe to set from
// any goroutine; the screens bind to them. Any other widget change made off
// the Fyne thread goes through fyne.Do. The UI never imports the store or
// the engine's technologies: it consumes the small interfaces in backend.go,
// which the engine (package app) mostly satisfies as it is, and which tests
// fake with mock.Backend.
//
// Backpressure on the engine→UI edge: the engine never waits for the UI. Its
// subscription drops the oldest event when the UI falls behind and signals
// Wake; the view model then rebuilds the hit queue from Backend.Pending and
// the status bar from Backend.Status, so a hit is never lost. Camera frames
// are polled (newest wins, none queued), and the read list keeps only the
// newest MaxReads reads.
package ui
