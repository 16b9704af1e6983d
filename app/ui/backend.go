package ui

import (
	"context"
	"errors"
	"image"
	"time"

	"github.com/ukanpr/anpr/app"
)

// Backend is everything the UI needs from the rest of the car. The engine
// (*app.Engine) provides Events and most of Officer as they are; the store,
// the GPS tracker and the vision pipeline provide the rest through a small
// adapter in cmd/anpr.
type Backend interface {
	Events
	Officer
	History
	Admin
	Map
	Camera
}

// Events is the engine's publication side (*app.Engine satisfies it).
type Events interface {
	Subscribe(buf int) *app.Subscription
	Unsubscribe(s *app.Subscription)
	// Pending returns the hits waiting for the officer, most urgent first.
	Pending() []app.PendingHit
	// Status returns the latest state of every part.
	Status() []app.PartStatus
}

// Officer is what the officer does in the car.
type Officer interface {
	// AuthenticateOfficer checks a collar number and PIN and returns the
	// officer; the UI then calls LogOn.
	AuthenticateOfficer(ctx context.Context, id, pin string) (app.Officer, error)
	LogOn(o app.Officer)
	Acknowledge(readID string) error
	Decide(ctx context.Context, d app.Decision) error
	Check(ctx context.Context, vrm string) ([]app.Match, error)
	// AddWanted stores a "new wanted" entry and returns it as stored and
	// the number of past hits it raised.
	AddWanted(ctx context.Context, e app.HotlistEntry) (app.HotlistEntry, int, error)
}

// ReadQuery selects reads of this shift for the history screen.
type ReadQuery struct {
	Since   time.Time // the shift's start
	VRM     string    // substring of the VRM, upper case; empty: every read
	Limit   int       // newest first; 0: the backend's default
	Patches bool      // load plate patches (the history shows them; the map does not)
}

// ReadRecord is one stored read with its hit and decision, if any.
type ReadRecord struct {
	Read     app.Read // Overview may be left out
	Hit      *app.Hit
	Decision *app.Decision
}

// History answers the read-history and map screens.
type History interface {
	ShiftReads(ctx context.Context, q ReadQuery) ([]ReadRecord, error)
}

// Settings are what a fleet admin sets in the car.
type Settings struct {
	Cameras       string // camera sources, one per line (device, RTSP/HTTP URL or file)
	GPS           string // GPS source (serial device, gpsd address, tcp:// or udp:// address, file)
	BackOffice    string // back-office base URL
	RetentionDays int    // reads older than this are purged from the car
}

// Validate checks settings an admin typed.
func (s Settings) Validate() error {
	if s.RetentionDays < 1 || s.RetentionDays > 3650 {
		return errors.New("retention must be between 1 and 3650 days")
	}
	return nil
}

// Admin is the fleet admin's side, behind the admin PIN.
type Admin interface {
	AuthenticateAdmin(ctx context.Context, pin string) error
	Settings(ctx context.Context) (Settings, error)
	// SaveSettings keeps s and returns what the admin is told: where it
	// was saved and when each setting takes effect.
	SaveSettings(ctx context.Context, s Settings) (string, error)
	// ImportHotlist imports a CSV file as the named list, calling progress
	// (from any goroutine) as lines are done; it returns the entries loaded.
	ImportHotlist(ctx context.Context, path, list string, progress func(done, total int)) (int, error)
}

// ErrNoTiles is returned by Map.Tile when no map tiles were loaded: the
// map screen then draws a plain track plot.
var ErrNoTiles = errors.New("no map tiles loaded")

// Map gives the map screen its tiles and the car's position.
type Map interface {
	// Tile returns a PNG or JPEG tile in XYZ numbering (y from the north;
	// MBTiles stores TMS rows, y flipped: row = 2^z-1-y). It returns
	// ErrNoTiles, for any tile, when no tile file is loaded, and nil bytes
	// with no error for a tile the loaded file lacks.
	Tile(z, x, y int) ([]byte, error)
	// At returns where the car was at t (the GPS tracker's app.Locator).
	At(t time.Time) app.Position
}

// Box is a plate found in a camera frame.
type Box struct {
	Rect image.Rectangle
	Text string
	Hit  bool
}

// Frame is a camera picture with the plates found in it.
type Frame struct {
	Seq    uint64 // increases with every new frame
	Camera string
	Image  image.Image
	Boxes  []Box
}

// Camera gives the live screen its pictures. LatestFrame is polled, so the
// newest frame always wins and none queue up; ok is false before the first.
type Camera interface {
	LatestFrame() (f Frame, ok bool)
}
