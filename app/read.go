package app

import (
	"image"
	"time"
)

// Format is the class of a registration mark's layout.
type Format string

// The formats a read or a hot-list entry can have.
const (
	FormatCurrent  Format = "gb-current"  // AB12 CDE, since 2001
	FormatPrefix   Format = "gb-prefix"   // A123 BCD, 1983–2001
	FormatSuffix   Format = "gb-suffix"   // ABC 123D, 1963–1983
	FormatDateless Format = "gb-dateless" // ABC 123, 1 ABC, …
	FormatNI       Format = "ni"          // ABZ 1234, Northern Ireland
	FormatUnknown  Format = "unknown"     // foreign or unrecognised
)

// Candidate is one reading of a plate with the recogniser's confidence in it.
type Candidate struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

// ClockSource says which clock stamped a read's capture time.
type ClockSource string

// Clock sources.
const (
	ClockGPS    ClockSource = "gps"    // system clock disciplined against GPS time within bounds
	ClockSystem ClockSource = "system" // system clock only: no GPS time, or offset out of bounds
)

// Read is one plate read: every vehicle pass yields exactly one, whether it
// matched a hot list or not.
type Read struct {
	ID              string        // UUID
	VRM             string        // normalised: upper case, no spaces
	Raw             string        // as the OCR produced it
	Confidence      float64       // of VRM, 0..1
	Candidates      []Candidate   // top-N, best first; Candidates[0].Text == VRM
	CharConfidences []float64     // one per character of VRM
	Format          Format        // format class of VRM
	Time            time.Time     // capture time, UTC, millisecond resolution
	ClockSource     ClockSource   // which clock stamped Time
	ClockOffset     time.Duration // GPS time minus system time when captured
	ClockSuspect    bool          // offset beyond the configured bound
	Camera          string        // camera id
	Position        Position      // where the car was at Time
	Patch           []byte        // plate patch, JPEG
	Overview        []byte        // overview frame, JPEG
	PassID          string        // vehicle pass id: one read per pass
}

// Sighting is what vision hands the engine: one vehicle pass on one camera,
// votes merged, not yet geotagged or matched.
type Sighting struct {
	Camera          string
	Time            time.Time // capture time of the best frame, UTC
	Raw             string
	Text            string // normalised best reading
	Confidence      float64
	Candidates      []Candidate
	CharConfidences []float64
	Format          Format
	Box             image.Rectangle // in the best frame
	Patch           []byte          // JPEG of the sharpest plate patch
	Overview        []byte          // JPEG of the frame it came from
	PassID          string
	Frames          int // frames that voted
}
